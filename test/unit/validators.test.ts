// Table tests for every validator: published test vectors where they exist
// (card test numbers, IBAN registry examples, BIP vectors, official ID
// examples), and the edge cases each validator exists to reject.
import t from 'tap';
import { crc32 } from 'node:zlib';
import { VALIDATORS, shannonEntropy } from '../../proxy/scan/validators';
import { verhoeffValid } from '../../proxy/scan/validators/in-aadhaar';
import { IBAN_LENGTHS } from '../../proxy/scan/validators/iban';
import { ISSUER_RANGES, cardBrand } from '../../proxy/scan/validators/luhn-card';
import { bech32Decode, bech32Encode, eightToFiveBits, fiveToEightBits } from '../../proxy/scan/validators/bech32';
import { base58CheckPayload, base58Decode } from '../../proxy/scan/validators/base58check';
import { base62Checksum } from '../../proxy/scan/validators/vendor-token';
import type { DetectorSpec } from '../../proxy/scan/types';

type Row = [candidate: string, expected: boolean, why: string];

function table(name: string, rows: Row[], spec?: DetectorSpec): void {
  t.test(name, async (t) => {
    const validate = VALIDATORS[name];
    t.type(validate, 'function', `${name} is registered`);
    for (const [candidate, expected, why] of rows) {
      t.equal(validate(candidate, spec), expected, `${why}: ${JSON.stringify(candidate.length > 60 ? candidate.slice(0, 60) + '...' : candidate)}`);
    }
  });
}

const b64 = (s: string): string => Buffer.from(s, 'latin1').toString('base64');
const b64url = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');

t.test('shannonEntropy', async (t) => {
  t.equal(shannonEntropy(''), 0);
  t.equal(shannonEntropy('aaaa'), 0);
  t.equal(shannonEntropy('abab'), 1);
  t.equal(shannonEntropy('abcd'), 2);
  t.equal(shannonEntropy('0123456789abcdef'), 4);
  t.ok(Math.abs(shannonEntropy('changeme') - 2.75) < 1e-9, 'changeme is 2.75 bits');
  // The shared counting table must be left clean between calls.
  t.equal(shannonEntropy('xy'), 1);
  t.equal(shannonEntropy('\xff\x00'), 1, 'bytes above 0x7f count as themselves');
});

table('luhn-card', [
  ['4111111111111111', true, 'Visa 16'],
  ['4222222222222', true, 'Visa 13'],
  ['4111 1111 1111 1111', true, 'spaces'],
  ['4111-1111-1111-1111', true, 'dashes'],
  ['5555555555554444', true, 'Mastercard 51-55'],
  ['2223003122003222', true, 'Mastercard 2-series'],
  ['378282246310005', true, 'Amex'],
  ['3782 822463 10005', true, 'Amex 4-6-5'],
  ['6011111111111117', true, 'Discover 6011'],
  ['6445644564456445', true, 'Discover 644-649'],
  ['3530111333300000', true, 'JCB'],
  ['30569309025904', true, 'Diners 14'],
  ['6200000000000005', true, 'UnionPay'],
  ['4111111111111112', false, 'Luhn fails'],
  ['4111 1111-1111 1111', false, 'mixed separators'],
  ['4111  1111 1111 1111', true, 'repeated separator of one kind is consistent'],
  ['41111111111111111111', false, '20 digits'],
  ['411111111111', false, '12-digit Visa'],
  ['378282246310005 ', true, 'trailing separator'],
  ['37828224631000', false, 'Amex must be 15'],
  ['5555555555554444555', false, 'Mastercard must be 16'],
  ['0000000000000000', false, 'all zeros (Luhn-valid filler)'],
  ['4444444444444448', true, 'not all the same digit'],
  ['1234567812345670', false, 'Luhn-valid but no issuer starts with 1'],
  ['7777777777777777', false, 'all same digit'],
  ['4111x111111111111', false, 'non-digit'],
]);

t.test('card issuer table', async (t) => {
  for (const r of ISSUER_RANGES) {
    t.ok(r.from <= r.to && String(r.to).length === r.prefixDigits, `${r.brand} ${r.from}-${r.to} is well-formed`);
    t.ok(r.lengths.every((n) => n >= 12 && n <= 19), `${r.brand} lengths within 12-19`);
  }
  const digits = (s: string) => [...s].map(Number);
  t.equal(cardBrand(digits('378282246310005'), 15), 'amex');
  t.equal(cardBrand(digits('2720990000000007'), 16), 'mastercard');
  t.equal(cardBrand(digits('2721000000000000'), 16), undefined, 'just above the 2-series range');
});

table('card-track-data', [
  ['%B4111111111111111^DOE/JANE^2912101000000000000?', true, 'track 1'],
  [';5555555555554444=29121010000000000?', true, 'track 2'],
  ['%B4111111111111112^DOE/JANE^2912101000000000000?', false, 'PAN Luhn fails'],
  [';5555555555554444=29131010000000000?', false, 'month 13'],
  [';5555555555554444=29001010000000000?', false, 'month 00'],
  ['%B4111111111111111^DOE/JANE2912101000000000000?', false, 'missing field separator'],
]);

t.test('IBAN length table', async (t) => {
  t.ok(Object.keys(IBAN_LENGTHS).length >= 80, 'registry countries');
  for (const cc of ['DE', 'FR', 'ES', 'IT', 'NL', 'BE', 'AT', 'PT', 'IE', 'FI', 'LU', 'GR', 'CY', 'MT', 'SK', 'SI', 'EE', 'LV', 'LT', 'HR', 'PL', 'CZ', 'HU', 'RO', 'BG', 'SE', 'DK', 'GB', 'NO', 'IS', 'LI', 'CH', 'MC', 'SM', 'VA', 'AD']) {
    t.ok(IBAN_LENGTHS[cc] >= 15 && IBAN_LENGTHS[cc] <= 34, `SEPA country ${cc} listed`);
  }
  t.equal(IBAN_LENGTHS.NO, 15, 'shortest');
  t.equal(IBAN_LENGTHS.RU, 33, 'longest in use');
});

table('iban', [
  ['DE89370400440532013000', true, 'DE'],
  ['DE89 3704 0044 0532 0130 00', true, 'DE printed'],
  ['GB29NWBK60161331926819', true, 'GB'],
  ['GB82 WEST 1234 5698 7654 32', true, 'GB printed'],
  ['FR1420041010050500013M02606', true, 'FR with a letter in the BBAN'],
  ['NL91ABNA0417164300', true, 'NL'],
  ['BE68539007547034', true, 'BE (16)'],
  ['NO9386011117947', true, 'NO (15, shortest)'],
  ['MT84MALT011000012345MTLCAST001S', true, 'MT (31)'],
  ['ES9121000418450200051332', true, 'ES'],
  ['IT60X0542811101000000123456', true, 'IT'],
  ['CH9300762011623852957', true, 'CH'],
  ['AT611904300234573201', true, 'AT'],
  ['PL61109010140000071219812874', true, 'PL'],
  ['SE4550000000058398257466', true, 'SE'],
  ['DE89370400440532013001', false, 'mod-97 fails'],
  ['DE88370400440532013000', false, 'wrong check digits'],
  ['DE8937040044053201300', false, 'one short for DE'],
  ['DE893704004405320130000', false, 'one long for DE'],
  ['BE685390075470341', false, 'BE is exactly 16'],
  ['XX89370400440532013000', false, 'unknown country'],
  ['DE89 3704 0044 0532 013000', false, 'groups must be four'],
  ['DE89  3704 0044 0532 0130 00', false, 'double space'],
  ['DE89 3704 0044 0532 0130 00 ', false, 'trailing space'],
  ['de89370400440532013000', false, 'lower case'],
]);

table('us-ssn', [
  ['536-22-1234', true, 'dashes'],
  ['536 22 1234', true, 'spaces'],
  ['536221234', true, 'compact'],
  ['000-12-3456', false, 'area 000'],
  ['666-12-3456', false, 'area 666'],
  ['900-12-3456', false, 'area 900'],
  ['999-12-3456', false, 'area 999'],
  ['536-00-1234', false, 'group 00'],
  ['536-22-0000', false, 'serial 0000'],
  ['078-05-1120', false, 'Woolworth wallet card'],
  ['219-09-9999', false, 'SSA advertising number'],
  ['123-45-6789', false, 'the stock example'],
  ['536-22 1234', false, 'mixed separators'],
  ['5362-2-1234', false, 'not 3-2-4'],
  ['555-55-5555', false, 'all one digit'],
]);

table('uk-nino', [
  ['AB123456C', true, 'compact'],
  ['AB 12 34 56 C', true, 'spaced'],
  ['JG103748A', true, 'another prefix'],
  ['GB123456A', false, 'unallocated prefix GB'],
  ['NK123456A', false, 'unallocated prefix NK'],
  ['DA123456A', false, 'D never first'],
  ['AO123456A', false, 'O never second'],
  ['QQ123456C', false, 'the HMRC example prefix'],
  ['AB123456E', false, 'suffix beyond D'],
  ['AB 123456 C', false, 'partial spacing'],
  ['AB12345C', false, 'too short'],
]);

table('es-dni', [
  ['12345678Z', true, 'DNI'],
  ['12345678-Z', true, 'DNI with dash'],
  ['87654321X', true, 'DNI'],
  ['X1234567L', true, 'NIE X'],
  ['Y1234567X', true, 'NIE Y'],
  ['Z1234567R', true, 'NIE Z'],
  ['12345678A', false, 'wrong letter'],
  ['X1234567Z', false, 'NIE wrong letter'],
  ['1234567Z', false, 'seven digits'],
  ['00000000T', false, 'zero number'],
]);

table('nl-bsn', [
  ['123456782', true, '11-proof'],
  ['111222333', true, '11-proof'],
  ['1112.23.337', true, 'dotted'],
  ['123456789', false, 'fails 11-proof'],
  ['000000000', false, 'all zeros pass the arithmetic'],
  ['12345678', false, 'eight digits'],
]);

table('de-tax-id', [
  ['86095742719', true, 'official example'],
  ['47036892816', true, 'official example'],
  ['65929970489', true, 'digit repeated three times, not adjacent'],
  ['57549285017', true, 'official example'],
  ['25768131411', true, 'official example'],
  ['86 095 742 719', true, 'spaced'],
  ['86095742718', false, 'wrong check digit'],
  ['01234567890', false, 'leading zero'],
  ['12345678901', false, 'no repeated digit'],
  ['11234567891', false, 'two digits repeated'],
  ['11123456780', false, 'three adjacent repeats'],
]);

table('fr-nir', [
  ['185057800608491', true, 'key = 97 - n mod 97'],
  ['1 85 05 78 006 084 91', true, 'spaced'],
  ['269052A12345688', true, 'Corsica 2A'],
  ['185057800608492', false, 'wrong key'],
  ['385057800608491', false, 'sex digit 3'],
  ['185137800608491', false, 'month 13'],
  ['18505780060849', false, '14 characters'],
]);

table('it-codice-fiscale', [
  ['RSSMRA85T10A562S', true, 'the textbook example'],
  ['VRDGPP70A01H501S', true, 'another'],
  ['rssmra85t10a562s', true, 'lower case'],
  ['RSSMRA85T10A562T', false, 'wrong check letter'],
  ['RSSMRA85Z10A562S', false, 'Z is not a month letter'],
  ['RSSMRA85T10A562', false, '15 characters'],
]);

table('br-cpf', [
  ['529.982.247-25', true, 'printed'],
  ['52998224725', true, 'compact'],
  ['111.444.777-35', true, 'printed'],
  ['529.982.247-26', false, 'second check digit'],
  ['529.982.247-15', false, 'first check digit'],
  ['111.111.111-11', false, 'repeated digit passes the arithmetic'],
  ['529-982-247.25', false, 'separators in the wrong places'],
]);

t.test('Verhoeff detects single-digit errors and adjacent transpositions', async (t) => {
  t.ok(verhoeffValid([2, 3, 6, 3], 4), '236 has check digit 3 (textbook example)');
  const base = [2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 4];
  t.ok(verhoeffValid(base, 12), 'base number valid');
  let missed = 0;
  for (let i = 0; i < 12; i++) {
    for (let v = 0; v < 10; v++) {
      if (v === base[i]) continue;
      const changed = [...base];
      changed[i] = v;
      if (verhoeffValid(changed, 12)) missed++;
    }
    if (i < 11 && base[i] !== base[i + 1]) {
      const swapped = [...base];
      [swapped[i], swapped[i + 1]] = [swapped[i + 1], swapped[i]];
      if (verhoeffValid(swapped, 12)) missed++;
    }
  }
  t.equal(missed, 0);
});

table('in-aadhaar', [
  ['234567890124', true, 'Verhoeff'],
  ['2345 6789 0124', true, 'spaced'],
  ['234567890125', false, 'check digit'],
  ['134567890124', false, 'cannot start with 1'],
  ['2345 6789-0124', false, 'mixed separators'],
  ['222222222222', false, 'repeated digit'],
]);

t.test('bech32 and base58 primitives', async (t) => {
  // BIP-173 / BIP-350 checksum vectors.
  t.equal(bech32Decode('A12UEL5L')?.encoding, 'bech32');
  t.equal(bech32Decode('abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw')?.encoding, 'bech32');
  t.equal(bech32Decode('A1LQFN3A')?.encoding, 'bech32m');
  t.equal(bech32Decode('abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx')?.encoding, 'bech32m');
  t.equal(bech32Decode('A1G7SGD8'), undefined, 'checksum computed over the upper-case HRP');
  t.equal(bech32Decode('li1dgmt3'), undefined, 'checksum too short');
  const bytes = Uint8Array.from([0, 1, 2, 253, 254, 255, 7]);
  t.same(fiveToEightBits(eightToFiveBits(bytes), 0), bytes, '8->5->8 round trip');
  const encoded = bech32Encode('hrp', eightToFiveBits(bytes), 'bech32m');
  t.equal(bech32Decode(encoded)?.encoding, 'bech32m', 'encoder output verifies');
  t.same(base58Decode('1112'), Uint8Array.from([0, 0, 0, 1]), 'leading 1s are zero bytes');
  t.equal(base58Decode('0OIl'), undefined, 'characters outside the alphabet');
  t.equal(base58CheckPayload('1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2')?.length, 21);
});

table('btc-address', [
  ['1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2', true, 'P2PKH'],
  ['3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy', true, 'P2SH'],
  ['bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', true, 'BIP-173 P2WPKH'],
  ['BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4', true, 'upper case'],
  ['bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq', true, 'P2WPKH'],
  ['bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0', true, 'BIP-350 P2TR (bech32m)'],
  ['1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3', false, 'base58 checksum'],
  ['bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5', false, 'bech32 checksum'],
  ['bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', false, 'mixed case'],
  ['tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx', false, 'testnet HRP'],
  [bech32Encode('bc', [0, ...eightToFiveBits(new Uint8Array(20).fill(7))], 'bech32m'), false, 'v0 program with bech32m'],
  [bech32Encode('bc', [1, ...eightToFiveBits(new Uint8Array(32).fill(7))], 'bech32'), false, 'v1 program with bech32'],
  [bech32Encode('bc', [0, ...eightToFiveBits(new Uint8Array(25).fill(7))], 'bech32'), false, 'v0 program of 25 bytes'],
]);

table('btc-wif', [
  ['5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ', true, 'uncompressed (wiki example key)'],
  ['KwdMAjGmerYanjeui5SHS7JkmpZvVipYvB2LJGU1ZxJwYvP98617', true, 'compressed, same key'],
  ['5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTK', false, 'checksum'],
  ['1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2', false, 'an address, not a key'],
]);

table('btc-extended-private-key', [
  ['xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi', true, 'BIP-32 vector 1'],
  ['xprv9s21ZrQH143K31xYSDQpPDxsXRTUcvj2iNHm5NUtrGiGG5e2DtALGdso3pGz6ssrdK4PFmM8NSpSBHNqPqm55Qn3LqFtT2emdEXVYsCzC2U', true, 'BIP-32 vector 2'],
  ['xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8', false, 'public key'],
  ['xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHj', false, 'checksum'],
]);

table('eth-address', [
  ['0x52908400098527886E0F7030069857D2E4169EE7', true, 'EIP-55 example'],
  ['0xde709f2102306220921060314715629080e2fb77', true, 'lower case'],
  ['0x0000000000000000000000000000000000000000', false, 'zero address'],
  ['0x52908400098527886E0F7030069857D2E4169EEG', false, 'non-hex'],
  ['0x52908400098527886E0F7030069857D2E4169EE', false, '39 digits'],
]);

const ageKey = (bytes: Uint8Array, encoding: 'bech32' | 'bech32m' = 'bech32') =>
  bech32Encode('AGE-SECRET-KEY-', eightToFiveBits(bytes), encoding).toUpperCase();
const keyBytes = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);

table('age-secret-key', [
  [ageKey(keyBytes), true, 'bech32 over 32 bytes'],
  [ageKey(keyBytes).toLowerCase(), true, 'lower case is the same key'],
  [ageKey(keyBytes, 'bech32m'), false, 'bech32m is not age'],
  [ageKey(keyBytes.subarray(0, 31)), false, '31 bytes'],
  [ageKey(keyBytes).slice(0, -1) + (ageKey(keyBytes).endsWith('Q') ? 'P' : 'Q'), false, 'checksum'],
]);

const header = b64url('{"alg":"HS256","typ":"JWT"}');
const claims = b64url('{"sub":"1234567890","iat":1516239022}');
const sig = 'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
table('jwt', [
  [`${header}.${claims}.${sig}`, true, 'HS256 token'],
  [`${b64url('{"alg":"none"}')}.${claims}.${sig}`, true, 'any named alg'],
  [`${b64url('{"typ":"JWT"}')}.${claims}.${sig}`, false, 'header without alg'],
  [`${b64url('{"alg":1}')}.${claims}.${sig}`, false, 'alg not a string'],
  [`${header}.${b64url('[1,2]')}.${sig}`, false, 'claims not an object'],
  [`${header}.${b64url('not json')}.${sig}`, false, 'claims not JSON'],
  [`${header}.${claims}`, false, 'two parts'],
  [`${header}.${claims}.${sig}.${sig}`, false, 'four parts'],
  [`${header}.${claims}.${sig}!`, false, 'character outside base64url'],
]);

table('email', [
  ['jane.doe@acme-corp.io', true, 'plain'],
  ['max.mustermann+billing@mail.beispiel.de', true, 'plus tag and subdomain'],
  ['logo@2x.png', false, 'retina asset'],
  ['bundle@1.2.js', false, 'file extension TLD'],
  ['admin@example.com', false, 'RFC 2606 domain'],
  ['root@server.local', false, 'reserved TLD'],
  ['.jane@acme.io', false, 'leading dot'],
  ['jane..doe@acme.io', false, 'double dot'],
  ['jane@-acme.io', false, 'label starts with a dash'],
  ['jane@acme', false, 'single label'],
  [`${'a'.repeat(65)}@acme.io`, false, 'local part over 64'],
  [`jane@${'a'.repeat(64)}.io`, false, 'label over 63'],
  ['jane@acme.i0', false, 'digit in TLD'],
]);

table('phone-e164', [
  ['+14155552671', true, 'E.164'],
  ['+44 20 7946 0958', true, 'grouped'],
  ['+1 (415) 555-2671', true, 'parentheses'],
  ['+1234567', false, 'seven digits'],
  ['+1234567890123456', false, 'sixteen digits'],
  ['+0123456789', false, 'country code cannot start with 0'],
  ['+1 (415 555-2671', false, 'unbalanced parenthesis'],
  ['+1111111111', false, 'filler'],
  ['+1234567890', false, 'ascending filler'],
  ['14155552671', false, 'no plus'],
]);

table('http-basic-auth', [
  [b64('deploy:s3cr3t-Pa55'), true, 'user:password'],
  [b64('svc:pw'), true, 'short password still a credential'],
  [b64('deploy:s3cr3t').replace(/=+$/, ''), true, 'unpadded'],
  [b64('username'), false, 'no colon'],
  [b64(':password1'), false, 'empty user'],
  [b64('user:'), false, 'empty password'],
  [b64('user:changeme'), false, 'placeholder password'],
  [b64('user:${PASSWORD}'), false, 'template password'],
  [b64('user:pa\x01ss'), false, 'control character'],
  ['dXNlcjpwYXNz=', false, 'bad padding'],
  ['not base64!', false, 'not base64'],
]);

table('url-password', [
  ['Xk9#pL2q', true, 'a password'],
  ['postgres1', true, 'weak but real'],
  ['password', false, 'the word itself'],
  ['${DB_PASSWORD}', false, 'template'],
  ['$DB_PASSWORD', false, 'variable'],
  ['********', false, 'mask'],
  ['<password>', false, 'angle placeholder'],
  ['%2A%2A%2A', true, 'percent-encoding is not a reference'],
  ['{{ .Values.password }}', false, 'helm template'],
]);

table('generic-secret', [
  ['Vq8#mZ2!rT6@pL', true, 'mixed classes'],
  ['9f8e7d6c5b4a39281706', true, 'hex'],
  ['changeme', false, 'stock word'],
  ['required_strong', false, 'identifier'],
  ['DB_PASSWORD_PROD', false, 'ENV_NAME'],
  ['86400000', false, 'number'],
  ['/etc/secrets/db', false, 'path'],
  ['https://vault.internal/v1', false, 'URL'],
  ['xxxxxxxxxxxx', false, 'filler'],
  ['your_api_key_here', false, 'instruction'],
  ['<redacted>', false, 'redaction marker'],
]);

table('aws-access-key-id', [
  ['AKIAZ4B2Q7XKM3N5P6RT', true, 'base32 body'],
  ['ASIAZ4B2Q7XKM3N5P6RT', true, 'STS key'],
  ['AKIAIOSFODNN7EXAMPLE', false, 'documentation key'],
  ['AKIAAAAAAAAAAAAAAAAA', false, 'filler'],
  ['AKIAZ4B2Q7XKM3N5P6R1', false, '1 is not base32'],
  ['AKIAZ4B2Q7XKM3N5P6R', false, '19 characters'],
]);

table('aws-secret-key', [
  ['Zq3nW8vK1pLr5Yt7Ux2Bm9Hc4Jd6Fg0Ae/Si+Oo7', true, '40 base64 chars'],
  ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', false, 'documentation key'],
  ['da39a3ee5e6b4b0d3255bfef95601890afd80709', false, 'SHA-1 hex'],
  ['abababababababababababababababababababab', false, 'low entropy'],
  ['Zq3nW8vK1pLr5Yt7Ux2Bm9Hc4Jd6Fg0Ae/Si+Oo', false, '39 characters'],
]);

t.test('aws-secret-key honours the detector minEntropy', async (t) => {
  const v = VALIDATORS['aws-secret-key'];
  const candidate = 'Zq3nW8vK1pLr5Yt7Ux2Bm9Hc4Jd6Fg0Ae/Si+Oo7';
  const spec = (minEntropy: number) => ({ minEntropy }) as DetectorSpec;
  t.equal(v(candidate, spec(4.0)), true);
  t.equal(v(candidate, spec(7.9)), false);
});

table('azure-sas-signature', [
  [encodeURIComponent('k3M9pQ2xT7vW1yZ5bN8cR4dF6gH0jL+/aBcDeFgHiJk='), true, 'url-encoded 32-byte HMAC'],
  ['k3M9pQ2xT7vW1yZ5bN8cR4dF6gH0jLaBcDeFgHiJkLm=', true, 'not encoded'],
  ['abc%3D', false, 'too short'],
  ['k3M9pQ2xT7vW1yZ5bN8cR4dF6gH0jLaBcDeFgHiJk%3D%3D', false, 'double padding'],
  ['%E0%A4%A', false, 'malformed percent-encoding'],
]);

const discordId = b64url('123456789012345678').replace(/=+$/, '');
table('discord-bot-token', [
  [`${discordId}.GxYz12.q8Wm3Tz0Rk5Yb2Nd7Hc1Lf6Vj9Xs4Ep0Ga3Ku8`, true, 'id decodes to a snowflake'],
  [`${b64url('hello world, friend!')}.GxYz12.q8Wm3Tz0Rk5Yb2Nd7Hc1Lf6Vj9Xs4Ep0Ga3Ku8`, false, 'not digits'],
  [`${b64url('1234567890')}.GxYz12.q8Wm3Tz0Rk5Yb2Nd7Hc1Lf6Vj9Xs4Ep0Ga3Ku8`, false, 'too few digits'],
]);

t.test('github-checksum', async (t) => {
  const v = VALIDATORS['github-checksum'];
  // Example from the format description (prefix + 30 random + base62 CRC32 of the random part).
  t.equal(v('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'), true, 'documented example');
  t.equal(v('ghp_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq18'), false, 'checksum digit changed');
  t.equal(v('ghp_zQWBuTSOoRi4A9spHcVY5ncnsDkxkK0mLq17'), false, 'body changed');
  t.equal(v('ghp_abcdefghijklmnopqrstuvwxyzABCD012345'), false, 'documentation placeholder');
  t.equal(v('ghp_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq1'), false, '39 characters');
  const body = 'Kp3xR7mQ2wZ9tL5vB8nY1cF4hJ6dS0';
  t.equal(v(`npm_${body}${base62Checksum(crc32(body))}`), true, 'npm token with a computed checksum');
  t.equal(base62Checksum(0), '000000', 'left-padded');
  t.equal(base62Checksum(0xffffffff), '4gfFC3', 'largest value fits 6 digits');
});

table('token', [
  ['ghs_Kp3xR7mQ2wZ9tL5vB8nY1cF4hJ6dS0aE2gI7', true, 'random'],
  ['ghs_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', false, 'filler'],
  ['ghs_abcdefghijklmnopqrstuvwxyz0123456789', false, 'ascending run'],
  ['AKIA7QW2ERTYEXAMPLE', false, 'EXAMPLE marker'],
  ['sk_live_REDACTED_3kd9', false, 'REDACTED marker'],
]);

const spec = (minEntropy?: number) => ({ minEntropy }) as DetectorSpec;
t.test('entropy', async (t) => {
  const v = VALIDATORS.entropy;
  t.equal(v('Kp3xR7mQ2wZ9tL5v', spec(3.5)), true, 'random value over the floor');
  t.equal(v('aaaaaaaabbbbbbbb', spec(3.5)), false, 'one bit per char');
  t.equal(v('abcdefgh', spec(3.0)), true, 'the floor is inclusive');
  t.equal(v('abcdefgh', spec(3.01)), false, 'just above');
  t.equal(v('abcdefghijklm'), true, 'default floor when the detector sets none');
  t.equal(v('aabbccdd'), false, 'default floor rejects 2 bits per char');
});

const pem = (label: string, body: string) => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----`;
const randomBody = Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 131 + 17) % 251)).toString('base64');
table('pem-private-key', [
  [pem('RSA PRIVATE KEY', randomBody.match(/.{1,64}/g)!.join('\n')), true, 'dense body'],
  [pem('PRIVATE KEY', randomBody).replace(/\n/g, '\\n'), true, 'JSON-escaped line breaks'],
  [`-----BEGIN EC PRIVATE KEY-----\n${randomBody.slice(0, 64)}`, true, 'header plus first line (no footer)'],
  [pem('RSA PRIVATE KEY', '...'), false, 'elided body'],
  [pem('RSA PRIVATE KEY', 'A'.repeat(200)), false, 'filler run'],
  [pem('RSA PRIVATE KEY', randomBody.slice(0, 40)), false, 'too little material'],
  [pem('RSA PRIVATE KEY', 'this is not a key but some words in a document body'.repeat(3)), false, 'prose is not dense'],
]);
