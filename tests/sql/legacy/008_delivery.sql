-- 008_delivery: who is told what (notification rules as data), and how it
-- reaches them (the delivery outbox: one row per message and channel, with
-- retries, dead letters, quiet hours and rate limits).

-- Staff contact channels.  A channel without an address (sms without a
-- phone, email without an address) is skipped.
ALTER TABLE people
    ADD COLUMN email    text CHECK (email IS NULL OR email ~ '^[^@\s<>]+@[^@\s<>]+$'),
    ADD COLUMN channels text[] NOT NULL DEFAULT '{app,sms}'
        CHECK (channels <@ ARRAY['app', 'sms', 'email']);

-- A notification goes to a staff member (recipient) or to the resident who
-- filed the case (recipient NULL, audience 'resident': the case's phone).
-- Its urgency is the case's when it is created.
ALTER TABLE notifications
    ALTER COLUMN recipient DROP NOT NULL,
    ADD COLUMN audience text NOT NULL DEFAULT 'staff' CHECK (audience IN ('staff', 'resident')),
    ADD CHECK ((audience = 'staff') = (recipient IS NOT NULL));
CREATE UNIQUE INDEX notifications_resident ON notifications (case_id, kind) WHERE recipient IS NULL;

-- Who is told about which event: rules are rows, not code.  audience:
--   grid_leader   the leader of the event's grid (the case's owner grid)
--   grid_members  the members of the event's grid
--   resident      the resident who filed the case (SMS to the case's phone)
-- kind is the notification's kind (one per case, kind and recipient);
-- template names a notification_templates row.
CREATE TABLE notification_rules (
    event_type text NOT NULL,
    audience   text NOT NULL CHECK (audience IN ('grid_leader', 'grid_members', 'resident')),
    kind       text NOT NULL,
    template   text NOT NULL,
    enabled    boolean NOT NULL DEFAULT true,
    PRIMARY KEY (event_type, audience)
);
INSERT INTO notification_rules (event_type, audience, kind, template) VALUES
    ('case.routed', 'grid_leader', 'case.routed', 'case.routed'),
    ('case.routed', 'grid_members', 'case.routed', 'case.routed'),
    ('case.received', 'resident', 'resident.receipt', 'resident.receipt'),
    ('case.resolved', 'resident', 'resident.resolved', 'resident.resolved'),
    ('case.supervised', 'grid_leader', 'case.supervised', 'case.supervised');

-- Template arguments (format() positions): %1$s case id, %2$s category,
-- %3$s grid code, %4$s grid name, %5$s description excerpt, %6$s extra,
-- %7$s deadline (local time), %8$s the resident's masked phone.
UPDATE notification_templates SET body =
    '【网格通知】新民情诉求待签收：案件 %1$s，类别 %2$s，网格 %3$s（%4$s），来电 %8$s。内容：%5$s。请于 %7$s 前签收办理。'
 WHERE kind = 'case.routed' AND lang = 'zh';
UPDATE notification_templates SET body =
    '[Grid notice] New case %1$s to sign for by %7$s: category %2$s, grid %3$s (%4$s), caller %8$s. %5$s'
 WHERE kind = 'case.routed' AND lang = 'en';
INSERT INTO notification_templates (kind, lang, body) VALUES
    ('resident.receipt', 'zh', '【民情受理】您反映的问题已登记，案件编号 %1$s（%2$s）。我们将尽快安排网格员办理，请留意后续回复。'),
    ('resident.receipt', 'en', '[Received] Your report is registered as case %1$s (%2$s). A grid worker will handle it.'),
    ('resident.resolved', 'zh', '【办结告知】您反映的案件 %1$s（%2$s）已办结。工作人员将回访听取您的意见，如仍未解决请回复或致电热线。'),
    ('resident.resolved', 'en', '[Resolved] Case %1$s (%2$s) is resolved. We will call you back for your opinion.'),
    ('case.supervised', 'zh', '【督办通知】案件 %1$s（%2$s，网格 %3$s %4$s）已列入督办，请加快办理。内容：%5$s。'),
    ('case.supervised', 'en', '[Supervision] Case %1$s (%2$s, grid %3$s %4$s) is now supervised. %5$s'),
    ('referral.overdue', 'zh', '【转办超期】案件 %1$s（%2$s，网格 %3$s %4$s）转办至%6$s后逾期未获部门回复，请跟进。'),
    ('referral.overdue', 'en', '[Referral overdue] Case %1$s (%2$s, grid %3$s %4$s): no reply from %6$s yet.');

-- A referral with no department reply within this many hours → the leader.
ALTER TABLE escalation_rules DROP CONSTRAINT escalation_rules_rule_check;
ALTER TABLE escalation_rules ADD CONSTRAINT escalation_rules_rule_check
    CHECK (rule IN ('sign_reminder', 'weekly_l2', 'monthly_l1', 'urgent', 'referral_reply'));
INSERT INTO escalation_rules (root, rule, params) VALUES ('*', 'referral_reply', '{"hours": 72}');

-- Per channel: attempts before a dead letter, back-off (exponential with
-- jitter, in real time), and a rate limit per recipient (0 = none).
CREATE TABLE delivery_policy (
    channel       text PRIMARY KEY CHECK (channel IN ('app', 'sms', 'email')),
    max_attempts  integer NOT NULL CHECK (max_attempts BETWEEN 1 AND 100),
    backoff_ms    integer NOT NULL CHECK (backoff_ms > 0),
    backoff_max_ms integer NOT NULL CHECK (backoff_max_ms > 0),
    rate_limit    integer NOT NULL CHECK (rate_limit >= 0),
    rate_window   interval NOT NULL
);
INSERT INTO delivery_policy VALUES
    ('app', 100, 1000, 60000, 0, '1 hour'),
    ('sms', 8, 2000, 600000, 30, '1 hour'),
    ('email', 8, 5000, 1800000, 60, '1 hour');

-- Quiet hours for non-urgent staff messages: outside [day_start, day_end)
-- local time on a working day they wait for the next working-day morning.
CREATE TABLE delivery_quiet (
    id        boolean PRIMARY KEY DEFAULT true CHECK (id),
    day_start time NOT NULL,
    day_end   time NOT NULL,
    CHECK (day_start < day_end)
);
INSERT INTO delivery_quiet VALUES (true, '08:00', '20:00');

-- When a message created at t may go out.
CREATE FUNCTION gf_quiet_release (t timestamptz, p_urgent boolean, p_audience text)
RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
DECLARE
    q delivery_quiet;
    local timestamp := t AT TIME ZONE 'Asia/Shanghai';
BEGIN
    SELECT * INTO q FROM delivery_quiet;
    IF p_urgent OR p_audience <> 'staff' OR q IS NULL
       OR (gf_is_workday (local::date) AND local::time >= q.day_start AND local::time < q.day_end) THEN
        RETURN t;
    END IF;
    RETURN gf_next_workday_at (t, extract (hour FROM q.day_start)::int,
                               extract (minute FROM q.day_start)::int);
END
$$;

-- The outbox.  state: pending → sent (app: pushed, awaiting the receipt) →
-- acked (app only); pending → dead after max_attempts.  next_at is real time
-- (retries are operational); not_before is business time (gf_now: quiet
-- hours).  dedupe_key travels to the gateway so a resend is recognised.
CREATE TABLE deliveries (
    id           bigserial PRIMARY KEY,
    notification bigint NOT NULL REFERENCES notifications (id),
    channel      text NOT NULL REFERENCES delivery_policy (channel),
    address      text NOT NULL,
    dedupe_key   text NOT NULL UNIQUE,
    urgent       boolean NOT NULL,
    state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'acked', 'dead')),
    attempts     integer NOT NULL DEFAULT 0,
    not_before   timestamptz NOT NULL,
    next_at      timestamptz NOT NULL DEFAULT now (),
    last_error   text,
    created_at   timestamptz NOT NULL,
    sent_at      timestamptz,          -- business time (gf_now) of the send
    sent_real    timestamptz,          -- real time of the send (rate limits)
    acked_at     timestamptz,
    UNIQUE (notification, channel)
);
CREATE INDEX deliveries_due ON deliveries (next_at) WHERE state = 'pending';
CREATE INDEX deliveries_app ON deliveries (address) WHERE channel = 'app' AND state IN ('pending', 'sent');
CREATE INDEX deliveries_rate ON deliveries (channel, address, sent_real) WHERE sent_real IS NOT NULL;
CREATE INDEX deliveries_dead ON deliveries (id) WHERE state = 'dead';

-- Every new notification fans out to its recipient's channels, whoever
-- created it (the notifier's rules or the escalation engine).
CREATE FUNCTION gf_deliveries_fanout () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO deliveries (notification, channel, address, dedupe_key, urgent, not_before, created_at)
    SELECT n.id, ch.channel, ch.address, 'n' || n.id || '.' || ch.channel, c.urgent,
           gf_quiet_release (n.created_at, c.urgent, n.audience), n.created_at
      FROM new_rows n
      JOIN cases c ON c.id = n.case_id
      LEFT JOIN people p ON p.id = n.recipient
      CROSS JOIN LATERAL (
          SELECT x.channel, CASE x.channel WHEN 'app' THEN p.id WHEN 'sms' THEN p.phone
                                            ELSE p.email END AS address
            FROM unnest (p.channels) AS x (channel)
          UNION ALL
          SELECT 'sms', c.phone WHERE n.recipient IS NULL
      ) ch
     WHERE ch.address IS NOT NULL
     ORDER BY n.id, ch.channel;
    PERFORM pg_notify ('gf_deliveries', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER notifications_fanout AFTER INSERT ON notifications
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION gf_deliveries_fanout ();

-- Referrals with no department reply within the rule's hours: one
-- notification per referral (its case_actions row) to the owner's leader.
CREATE FUNCTION gf_referrals_overdue () RETURNS integer LANGUAGE sql AS $$
    WITH due AS (
        SELECT c.id, c.grid, c.department, a.id AS action
          FROM cases c
          JOIN LATERAL (SELECT id, at FROM case_actions
                         WHERE case_id = c.id AND action = 'refer' ORDER BY id DESC LIMIT 1) a ON true
         WHERE c.state = 'referred'
           AND a.at + make_interval (hours => (gf_rule (c.root, 'referral_reply')->>'hours')::int) <= gf_now ()
    )
    SELECT coalesce (sum (gf_notify (id, 'referral.overdue.' || action, 'referral.overdue',
                                     gf_leader (grid), coalesce (department, '相关部门'))), 0)::int
      FROM due
$$;

-- Staff app sign-in: one token per person (`gridctl notify token`), kept as
-- its SHA-256 only.
CREATE TABLE app_tokens (
    person       text PRIMARY KEY REFERENCES people (id),
    token_sha256 bytea NOT NULL,
    issued_at    timestamptz NOT NULL DEFAULT now ()
);
