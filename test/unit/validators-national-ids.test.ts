// The identifier validators added for issue 14, held to values generated
// from the published algorithms (bench/detection-cases, written apart from
// the validators): every valid value passes, and the same value with a wrong
// check digit, allocation or date fails. Seeded and bounded fast-check runs,
// plus a table of hand-picked edge cases per validator.
import t from 'tap';
import fc from 'fast-check';
import { VALIDATORS } from '../../proxy/scan/validators';
import { ID_GENERATORS } from '../../bench/detection-cases/pii';
import { Rng } from '../../bench/detection-cases/random';

const RUNS = { seed: 1414, numRuns: 300 };

for (const [name, gen] of Object.entries(ID_GENERATORS)) {
  t.test(`${name}: generated values`, async (t) => {
    const validate = VALIDATORS[name];
    t.ok(validate, `${name} is registered`);
    // Invalid IP/MAC forms are a different shape (5 groups, octet 999), not a wrong check digit.
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        const good = gen(new Rng(seed), true);
        const bad = gen(new Rng(seed), false);
        return validate(good) === true && validate(bad) === false;
      }),
      RUNS,
    );
  });
}

const TABLE: Record<string, { valid: string[]; invalid: string[] }> = {
  'us-itin': { valid: ['912-70-1234', '999 94 0001'], invalid: ['912-66-1234', '812-70-1234', '912-93-1234'] },
  'us-npi': { valid: ['1234567893'], invalid: ['1234567890', '3234567893'] },
  'us-aba-routing': { valid: ['011000015', '021000021'], invalid: ['011000016', '999999999', '131000011'] },
  'ca-sin': { valid: ['130 692 544', '130-692-544'], invalid: ['130 692 545', '046 454 286', '830 692 544', '000000000'] },
  'uk-nhs-number': { valid: ['943 476 5919', '9434765919'], invalid: ['943 476 5918', '0000000000'] },
  'pl-pesel': { valid: ['44051401359', '02270803624'], invalid: ['44051401358', '44133101359'] },
  'se-personnummer': { valid: ['811218-9876', '19811218-9876', '811278-9873'], invalid: ['811218-9875', '811318-9876'] },
  'fi-hetu': { valid: ['131052-308T', '131052-308t'], invalid: ['131052-308U', '311352-308T', '131052Q308T'] },
  'be-national-number': { valid: ['85.07.30-033.28', '85073003328'], invalid: ['85.07.30-033.29', '85.13.30-033.28'] },
  'ro-cnp': { valid: ['1800101221144'], invalid: ['1800101221145', '1801301221144', '9800101221144'] },
  'pt-nif': { valid: ['123456789', '501442600'], invalid: ['123456780', '423456789'] },
  'ie-pps': { valid: ['1234567T', '1234567TW', '1234567FA'], invalid: ['1234567A', '1234567TZ'] },
  'in-pan': { valid: ['AFZPK7190K', 'bnzaa2318j'], invalid: ['AFZDK7190K', 'ABCDE1234F', 'AFZPK71900'] },
  'sg-nric': { valid: ['S1234567D', 'T1234567J', 'F1234567N', 'G1234567X'], invalid: ['S1234567A', 'M1234567K', 'S123456D'] },
  'au-tfn': { valid: ['123 456 782', '12345677'], invalid: ['123 456 789', '111111111'] },
  'au-medicare': { valid: ['2123 45670 1', '2123456701'], invalid: ['2123 45671 1', '1123456701', '7123456701'] },
  'cn-resident-id': { valid: ['11010519491231002X', '11010519491231002x'], invalid: ['110105194912310021', '110105194913310029'] },
  'kr-rrn': { valid: ['900101-1234568'], invalid: ['900101-1234567', '901301-1234568', '900101-5234568'] },
  'au-abn': { valid: ['51 824 753 556', '51824753556'], invalid: ['51 824 753 557', '01 824 753 556', '11111111111'] },
  'au-acn': { valid: ['004 085 616', '000 000 019'], invalid: ['004 085 617', '111111111', '04 085 616'] },
  'it-partita-iva': { valid: ['07643520567', 'IT07643520567', 'it07643520567'], invalid: ['07643520568', '07643521017', '00000000000'] },
  'us-drivers-license': {
    valid: ['D6418870', 'W426-545-30-761-0', '372147363', '12ABC34567', 'WDLABCD456DG', 'SMITHJA123AB'],
    invalid: ['ABC12', '11111111', '12345678', '1234ABCD', '123456789012345678901'],
  },
  'uk-driving-licence': {
    valid: ['MORGA753116SM9IJ', 'JONES061102W97YT', 'LI999752296AB9XY'],
    invalid: ['MORGA752306SM9IJ', 'MORGA713116SM9IJ', 'MO9GA753116SM9IJ', 'MORGA7531169M9IJ', 'MORGA753116SM9I'],
  },
  'us-dea-number': { valid: ['BM6418873', 'AS4640101', 'F91234563'], invalid: ['BM6418874', 'IM6418873', 'B16418873', 'BM1111111'] },
  'ip-address': { valid: ['192.0.2.1', '2001:db8::1', 'fe80::1:2:3:4'], invalid: ['127.0.0.1', '0.0.0.0', '256.1.1.1', '::1', '1:2:3', '12:34:56'] },
  'mac-address': { valid: ['00:1A:2B:3C:4D:5E', '001a.2b3c.4d5e', '00-1a-2b-3c-4d-5e'], invalid: ['00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff', '00:1A:2B:3C:4D'] },
  'eth-address': {
    valid: ['0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', '0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359', '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb'],
    invalid: ['0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD', '0xd1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb'],
  },
  'uk-nino': { valid: ['AB123456C', 'ab123456c', 'ab 12 34 56 c'], invalid: ['qq123456c', 'gb123456a', 'ab 123456 c'] },
  'us-ssn': { valid: ['536-22-1234', '536221234', '536.22.1234', '536 22 1234'], invalid: ['536.22-1234', '000.22.1234', '078.05.1120'] },
  'phone-e164': { valid: ['+44 20 7946 0958', '+1 212 555 0123', '+49 30 90182736', '+91 98765 43210'], invalid: ['+44 20 1234', '+1 123 456 7890', '+999 123456789'] },
};

for (const [name, { valid, invalid }] of Object.entries(TABLE)) {
  t.test(`${name}: table`, async (t) => {
    const validate = VALIDATORS[name];
    for (const v of valid) t.equal(validate(v), true, `accepts ${v}`);
    for (const v of invalid) t.equal(validate(v), false, `rejects ${v}`);
  });
}
