// IP and MAC addresses (opt-in PII: they identify a device, hence often a
// person). The patterns find candidates; these checks reject what is not an
// address of a host: out-of-range octets, unspecified, loopback, broadcast
// and netmasks, and MAC addresses that are all zero or all ones.
import { isIPv4, isIPv6 } from 'node:net';
import type { Validator } from '../types';

export const ipAddress: Validator = (candidate) => {
  if (isIPv4(candidate)) {
    const first = Number(candidate.slice(0, candidate.indexOf('.')));
    return first !== 0 && first !== 127 && first !== 255;
  }
  if (!isIPv6(candidate)) return false;
  const lower = candidate.toLowerCase();
  return lower !== '::' && lower !== '::1';
};

export const macAddress: Validator = (candidate) => {
  const hex = candidate.replace(/[:.-]/g, '').toLowerCase();
  if (hex.length !== 12 || !/^[0-9a-f]{12}$/.test(hex)) return false;
  return hex !== '000000000000' && hex !== 'ffffffffffff';
};
