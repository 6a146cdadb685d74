// Discord bot tokens: `<base64 of the bot's numeric user id>.<timestamp>.<hmac>`.
// The first part decoding to a 17-20 digit snowflake is what distinguishes a
// token from any other dotted base64 triple.
import type { Validator } from '../types';
import { decodeBase64, isBase64Url } from './base64';
import { isPlaceholderToken } from './placeholders';

export const discordBotToken: Validator = (candidate) => {
  const dot = candidate.indexOf('.');
  if (dot < 0 || !isBase64Url(candidate, 0, dot) || isPlaceholderToken(candidate)) return false;
  const id = decodeBase64(candidate.slice(0, dot));
  if (id.length < 17 || id.length > 20) return false;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
};
