// The logging surface the kube plumbing needs: pino's (obj, msg) call shape,
// so the operator passes its pino logger and tests pass a silent or
// recording one.
export interface Logger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
