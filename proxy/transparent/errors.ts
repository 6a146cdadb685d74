// Errors of transparent capture, each with a stable code. Messages name
// options, commands and addresses, never payload bytes.
import { KdlpError } from '../errors/kdlp-error';

/** An init-iptables option is invalid. */
export class CaptureOptionsError extends KdlpError {
  readonly code = 'KDLP_CAPTURE_OPTIONS';
  constructor(
    readonly option: string,
    readonly reason: string,
  ) {
    super(`${option}: ${reason}`);
  }
}

/** An iptables command failed while installing or removing the redirect. */
export class CaptureApplyError extends KdlpError {
  readonly code = 'KDLP_CAPTURE_APPLY';
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`${command} failed (exit ${exitCode ?? 'signal'}): ${stderr.trim().split('\n').slice(0, 3).join(' | ')}`);
  }
}

/** IPv6 is in use in this network namespace but its nat table cannot be programmed: egress would bypass the proxy. */
export class Ipv6CaptureUnavailableError extends KdlpError {
  readonly code = 'KDLP_CAPTURE_IPV6_UNAVAILABLE';
  constructor(readonly detail: string) {
    super(`IPv6 addresses are configured but ip6tables nat is unavailable (${detail}); refusing to leave IPv6 egress uncaptured (use --ipv6 off to accept that)`);
  }
}

/** A redirected connection's original destination could not be read. */
export class OriginalDestinationError extends KdlpError {
  readonly code = 'KDLP_ORIGINAL_DST';
  constructor(
    message: string,
    readonly errno?: number,
  ) {
    super(message);
  }
}
