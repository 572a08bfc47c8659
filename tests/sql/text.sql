-- pgTAP: deploy/sql/repeatable/text.sql — the normalised address (both sides
-- of the address -> grid lookup) and the masks of personal data in events.
-- (The cluster is C.UTF-8, deploy/pg.sh: \s includes the ideographic space.)
BEGIN;
SELECT plan (17);

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
SELECT is (gf_mask_phone ('6512345'), '651****2345', '7 digits: first 3 and last 4 kept');
SELECT is (gf_mask_phone ('110'), '****', '3 digits: all masked');
SELECT is (gf_mask_phone ('123456'), '****', '6 digits: all masked');
SELECT is (gf_mask_phone (NULL), NULL, 'no phone: NULL');

SELECT is (gf_mask_address ('青年路街道西街村1组2号'), '青年路街道西街**', 'an address: the first 60 % kept (in characters)');
SELECT is (gf_mask_address ('ab'), 'a**', 'at least one character kept');
SELECT is (gf_mask_address (NULL), NULL, 'no address: NULL');
SELECT ok (gf_mask_address ('青年路街道西街村1组2号') NOT LIKE '%2号%', 'the house number never shows');

SELECT * FROM finish ();
ROLLBACK;
