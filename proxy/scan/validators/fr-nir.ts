// French social security number (NIR / numéro de sécurité sociale):
// 13 characters plus a 2-digit key = 97 - (number mod 97). Corsican
// departments 2A/2B are numbered by subtracting 1,000,000 / 2,000,000 from
// the number read with the letter as 0.
import type { Validator } from '../types';

export const frNir: Validator = (candidate) => {
  let compact = '';
  let spaces = 0;
  for (let i = 0; i < candidate.length; i++) {
    if (candidate.charCodeAt(i) === 0x20) spaces++;
    else compact += candidate[i];
  }
  if (compact.length !== 15) return false;
  const sex = compact[0];
  if (sex !== '1' && sex !== '2') return false;
  const month = Number(compact.slice(3, 5));
  if (!(month >= 1 && month <= 12) && !(month >= 20 && month <= 42) && !(month >= 50 && month <= 99)) return false;
  let corsica = 0;
  const dept = compact.slice(5, 7).toUpperCase();
  if (dept === '2A') corsica = 1_000_000;
  else if (dept === '2B') corsica = 2_000_000;
  const body = corsica ? compact.slice(0, 6) + '0' + compact.slice(7, 13) : compact.slice(0, 13);
  if (!/^[0-9]{13}$/.test(body) || !/^[0-9]{2}$/.test(compact.slice(13))) return false;
  // 13 digits < 2^53, so plain numbers are exact.
  const number = Number(body) - corsica;
  const key = Number(compact.slice(13));
  return key >= 1 && key <= 97 && key === 97 - (number % 97);
};
