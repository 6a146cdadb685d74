// Human-assigned secrets: the value of `password = "..."`, of a URL's
// password, of a Bearer header. Unlike vendor tokens they have no format,
// so what can be rejected is what is plainly not a secret: references to a
// variable, masks, stock words, identifiers and numbers.
import type { Validator } from '../types';
import { isPlaceholderValue, looksLikeIdentifier } from './placeholders';

/** Value of a generic `key = value` assignment; the detector's minEntropy does the rest. */
export const genericSecret: Validator = (candidate) => !isPlaceholderValue(candidate) && !looksLikeIdentifier(candidate);

/**
 * Password part of `scheme://user:password@host`. Short real passwords are
 * common in connection strings, so only placeholders are rejected.
 */
export const urlPassword: Validator = (candidate) => !isPlaceholderValue(candidate);
