// Bitcoin addresses and private keys. Addresses are public but tie a person
// to funds (PII); WIF and extended private keys spend them (secrets). All of
// them carry a checksum, so validation makes these detectors near-exact.
import type { Validator } from '../types';
import { base58CheckPayload } from './base58check';
import { bech32Decode, fiveToEightBits } from './bech32';

const P2PKH_MAINNET = 0x00;
const P2SH_MAINNET = 0x05;

function segwitAddress(candidate: string): boolean {
  const decoded = bech32Decode(candidate);
  if (!decoded || decoded.hrp !== 'bc' || decoded.data.length < 1) return false;
  const version = decoded.data[0];
  if (version > 16) return false;
  if ((version === 0) !== (decoded.encoding === 'bech32')) return false;
  const program = fiveToEightBits(decoded.data, 1);
  if (!program || program.length < 2 || program.length > 40) return false;
  return version !== 0 || program.length === 20 || program.length === 32;
}

/** Legacy P2PKH/P2SH (Base58Check, version 0x00/0x05) or segwit bc1 (bech32/bech32m). */
export const btcAddress: Validator = (candidate) => {
  const c0 = candidate.charCodeAt(0);
  if (c0 === 0x62 /* b */ || c0 === 0x42 /* B */) return segwitAddress(candidate);
  const payload = base58CheckPayload(candidate);
  return payload !== undefined && payload.length === 21 && (payload[0] === P2PKH_MAINNET || payload[0] === P2SH_MAINNET);
};

/** Wallet Import Format private key: 0x80 (mainnet) or 0xEF (testnet), 32 key bytes, optional 0x01 compression flag. */
export const btcWif: Validator = (candidate) => {
  const payload = base58CheckPayload(candidate);
  if (!payload || (payload[0] !== 0x80 && payload[0] !== 0xef)) return false;
  return payload.length === 33 || (payload.length === 34 && payload[33] === 0x01);
};

// BIP-32/49/84 private version bytes: xprv, yprv, zprv, tprv.
const EXTENDED_PRIVATE_VERSIONS = new Set([0x0488ade4, 0x049d7878, 0x04b2430c, 0x04358394]);

/** BIP-32 extended private key: 78-byte payload, private version, key data prefixed by 0x00. */
export const btcExtendedPrivateKey: Validator = (candidate) => {
  const payload = base58CheckPayload(candidate);
  if (!payload || payload.length !== 78) return false;
  const version = ((payload[0] << 24) | (payload[1] << 16) | (payload[2] << 8) | payload[3]) >>> 0;
  return EXTENDED_PRIVATE_VERSIONS.has(version) && payload[45] === 0x00;
};
