// IP and MAC addresses: personal data where they identify a subscriber's
// device (GDPR recital 30), but everywhere in logs and configs, so opt-in.
// The boundaries are spelled out instead of `\b`: a version string
// (`1.2.3.4.5`), an OID or a longer hex run must not yield an address.
import type { DetectorSpec } from '../types';
import { notFollowedBy } from './patterns';

const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
const H4 = '[0-9A-Fa-f]{1,4}';
const HEX2 = '[0-9A-Fa-f]{2}';

export const NETWORK_DETECTORS: readonly DetectorSpec[] = [
  {
    id: 'pii.ip-address',
    name: 'IP address (v4 or v6)',
    category: 'pii',
    severity: 'low',
    action: 'monitor',
    optIn: true,
    patterns: [
      String.raw`(?:^|[^0-9A-Za-z.])(${OCTET}\.${OCTET}\.${OCTET}\.${OCTET})(?:[^0-9A-Za-z.]|\.[^0-9]|\.$|$)`,
      // v6: hex groups and at most one `::`; the validator parses the candidate.
      String.raw`(?:^|[^0-9A-Za-z:.])((?:${H4})?(?:::?${H4}){2,7}(?:::)?)${notFollowedBy('0-9A-Za-z:.')}`,
    ],
    valueGroup: 1,
    validator: 'ip-address',
    contextWords: ['ip', 'client', 'remote_addr', 'x-forwarded-for', 'address'],
    description: 'IPv4 and IPv6 host addresses (not loopback, unspecified or broadcast). Opt-in: addresses fill every log.',
    examples: {
      positive: ['ip: 19.178.124.30', 'client 2001:db8:a961:480e::2e7 connected', 'X-Forwarded-For: 203.0.113.7, 10.0.0.2'],
      negative: ['version 5.5.5.3.4', 'oid 1.3.6.1.4.1.311', 'localhost 127.0.0.1', 'time 12:34:56'],
    },
  },
  {
    id: 'pii.mac-address',
    name: 'MAC address',
    category: 'pii',
    severity: 'low',
    action: 'monitor',
    optIn: true,
    patterns: [
      String.raw`(?:^|[^0-9A-Za-z:-])((?:${HEX2}:){5}${HEX2}|(?:${HEX2}-){5}${HEX2})${notFollowedBy('0-9A-Za-z:-')}`,
      String.raw`(?:^|[^0-9A-Za-z.])([0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})${notFollowedBy('0-9A-Za-z.')}`,
    ],
    valueGroup: 1,
    validator: 'mac-address',
    contextWords: ['mac', 'hwaddr', 'ether', 'device', 'bssid'],
    description: 'MAC addresses (colon, hyphen or Cisco dotted notation), not all-zero or broadcast. Opt-in.',
    examples: {
      positive: ['mac: 0b71.dec0.2e97', 'mac: 02:16:8f:04:32:33', 'HWaddr 00-1A-2B-3C-4D-5E'],
      negative: ['device 87:94:49:4b:7a joined', 'time 12:34:56', 'ff:ff:ff:ff:ff:ff', 'fe80::1'],
    },
  },
];
