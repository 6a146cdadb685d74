// Email addresses: RFC 5321 length limits, DNS label rules, and a TLD that
// is plausible. The pattern happily matches `logo@2x.png` and
// `user@host.local`; file extensions and reserved names (RFC 2606/6761)
// are not addresses anyone can leak.
import type { Validator } from '../types';

const FILE_EXTENSIONS = new Set([
  'png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'ico', 'bmp', 'tif', 'tiff', 'avif', 'css', 'scss', 'less', 'js', 'mjs', 'cjs',
  'ts', 'tsx', 'jsx', 'vue', 'json', 'map', 'html', 'htm', 'xml', 'txt', 'yml', 'yaml', 'toml', 'ini', 'cfg', 'conf',
  'log', 'csv', 'pdf', 'gz', 'tgz', 'tar', 'bz2', 'xz', 'exe', 'dll', 'java', 'class', 'jar', 'php', 'lock', 'woff',
  'woff2', 'ttf', 'otf', 'eot', 'mp3', 'mp4', 'wav', 'webm', 'avi', 'bin', 'dat', 'tmp', 'bak', 'swp', 'whl', 'wasm',
]);
const RESERVED_TLDS = new Set(['test', 'example', 'invalid', 'localhost', 'local', 'internal', 'lan']);
const RESERVED_DOMAINS = new Set(['example.com', 'example.net', 'example.org']);

function validLabel(domain: string, from: number, to: number): boolean {
  const len = to - from;
  if (len < 1 || len > 63) return false;
  if (domain.charCodeAt(from) === 0x2d || domain.charCodeAt(to - 1) === 0x2d) return false;
  return true;
}

export const email: Validator = (candidate) => {
  if (candidate.length > 254) return false;
  const at = candidate.lastIndexOf('@');
  if (at < 1 || at > 64) return false;
  const local = candidate.slice(0, at);
  if (local[0] === '.' || local[local.length - 1] === '.' || local.includes('..')) return false;
  const domain = candidate.slice(at + 1).toLowerCase();
  let labelStart = 0;
  let labels = 0;
  for (let i = 0; i <= domain.length; i++) {
    if (i === domain.length || domain.charCodeAt(i) === 0x2e) {
      if (!validLabel(domain, labelStart, i)) return false;
      labels++;
      labelStart = i + 1;
    }
  }
  if (labels < 2) return false;
  const tld = domain.slice(domain.lastIndexOf('.') + 1);
  if (!/^[a-z]{2,24}$/.test(tld)) return false;
  if (FILE_EXTENSIONS.has(tld) || RESERVED_TLDS.has(tld)) return false;
  const registered = domain.slice(domain.lastIndexOf('.', domain.length - tld.length - 2) + 1);
  return !RESERVED_DOMAINS.has(registered);
};
