-- pgTAP: deploy/sql/repeatable/text.sql — the normalised address (both sides
-- of the address -> grid lookup), the masks of personal data and the
-- redaction of free text (gf_redact_text).
-- (The cluster is C.UTF-8, deploy/pg.sh: \s includes the ideographic space.)
BEGIN;
SET CONSTRAINTS event_stage_append IMMEDIATE; -- events in the log at each statement's end (events.sql)
SELECT plan (37);

SELECT is (gf_normalize_address ('青年路街道西街村１组１２号'), '青年路街道西街村1组12号',
           'full-width digits become ASCII digits');
SELECT is (gf_normalize_address ('管道三公司社区１号楼－３单元'), '管道三公司社区1号楼-3单元',
           'the full-width hyphen becomes ''-''');
SELECT is (gf_normalize_address (E' 青年路 12号\t2单元\n'), '青年路12号2单元', 'spaces, tabs and newlines go');
SELECT is (gf_normalize_address (E'青年路\u3000１２号'), '青年路12号', 'the ideographic (full-width) space goes');
SELECT is (gf_normalize_address (E' \u3000\t'), NULL, 'only spaces: NULL');
SELECT is (gf_normalize_address (NULL), NULL, 'NULL stays NULL');
SELECT is (gf_normalize_address (gf_normalize_address ('青年路 １２号')), gf_normalize_address ('青年路 １２号'),
           'normalising twice changes nothing (the addresses CHECK)');
SELECT is ((SELECT grid FROM addresses WHERE address = gf_normalize_address (' 青年路街道西街村１组 ２号')), 'QNL.01.001',
           'a resident''s spelling finds the directory''s address');

SELECT is (gf_mask_phone ('13812345678'), '138****5678', '11 digits: first 3 and last 4 kept');
SELECT is (gf_mask_phone ('6512345'), '****45', '7 digits (a landline): the last 2 only');
SELECT is (gf_mask_phone ('65123456'), '****56', '8 digits (a landline): the last 2 only');
SELECT is (gf_mask_phone ('138-1234-5678'), '138****5678', 'separators do not count');
SELECT is (gf_mask_phone ('0571-87654321'), '057****4321', 'a landline with its area code: 4 of 8 hidden');
SELECT is (gf_mask_phone ('110'), '****', '3 digits: all masked');
SELECT is (gf_mask_phone ('123456'), '****', '6 digits: all masked');
SELECT is (gf_mask_phone (NULL), NULL, 'no phone: NULL');

SELECT is (gf_mask_address ('青年路街道西街村1组2号'), '青年路街道西街**', 'an address: the first 60 % kept (in characters)');
SELECT is (gf_mask_address ('西街村12号楼3单元401室'), '西街村**', 'never past the first digit (the house number)');
SELECT is (gf_mask_address ('12号楼'), '**', 'an address starting with its number: nothing kept');
SELECT is (gf_mask_address ('经纬度 39.912345,116.401234'), '经纬度 39.91,116.40', 'coordinates: rounded to 2 decimals');
SELECT is (gf_mask_address ('经纬度 -33.8688,151.2093'), '经纬度 -33.87,151.21', 'negative coordinates too');
SELECT is (gf_mask_address ('经纬度 39.9e5,116.4'), '经纬度 **', 'anything else with digits: no digit kept');
SELECT is (gf_mask_address ('ab'), 'a**', 'at least one character kept');
SELECT is (gf_mask_address (NULL), NULL, 'no address: NULL');
SELECT ok (gf_mask_address ('青年路街道西街村1组2号') NOT LIKE '%2号%', 'the house number never shows');

-- gf_redact_text: the one redaction of free text.
SELECT is (gf_redact_text ('电话13812345678，或 138 1234 5678、138-1234-5678、+86 13812345678'),
           '电话[电话]，或 [电话]、[电话]、[电话]', '11-digit mobiles, with or without separators and +86');
SELECT is (gf_redact_text ('座机6543210 或 65432109 或 0571-87654321 或 (010)87654321 或 8765-4321'),
           '座机[电话] 或 [电话] 或 [电话] 或 [电话] 或 [电话]', '7- and 8-digit landlines, with or without area code');
SELECT is (gf_redact_text ('身份证110105194912310021，或11010519491231002X、110105 19491231 002x'),
           '身份证[证件号]，或[证件号]、[证件号]', '18-digit ID numbers, last X, separated parts');
SELECT is (gf_redact_text ('卡号6222021234567890，6222021234567890123，6222 0212 3456 7890 123'),
           '卡号[卡号]，[卡号]，[卡号]', 'bank cards: 16 to 19 digits, grouped or not');
SELECT is (gf_redact_text ('发到 zhang.san+gf@mail.example.com.cn 吧'), '发到 [邮箱] 吧', 'e-mail addresses');
SELECT is (gf_redact_text ('电话１３８１２３４５６７８'), '电话[电话]', 'full-width digits too');
SELECT is (gf_redact_text ('订单号123456789012'), '订单号[号码]', 'any other run of 7 or more digits');
SELECT is (gf_redact_text ('1组2号楼前3棵树，2026-11-02 上午9点，共12户，编号123456'),
           '1组2号楼前3棵树，2026-11-02 上午9点，共12户，编号123456', 'short numbers, dates and times stay');
SELECT is (gf_redact_text ('我叫张三，张三的邻居', '张三'), '我叫[姓名]，[姓名]的邻居', 'the caller''s name wherever it occurs');
SELECT is (gf_redact_text ('王大爷说', '王'), '王大爷说', 'a one-character name is not replaced');
SELECT is (gf_redact_text (NULL), NULL, 'NULL stays NULL');
SELECT is (gf_redact_text (gf_redact_text ('电话13812345678', '张三'), '张三'), gf_redact_text ('电话13812345678', '张三'),
           'redacting twice changes nothing');

SELECT * FROM finish ();
ROLLBACK;
