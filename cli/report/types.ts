import type { Finding } from '../../proxy/scan/types';

/** A finding located in one input of `kube-dlp scan`. */
export interface FileFinding extends Finding {
  /** Path as given on the command line, or `-` for standard input. */
  file: string;
  /** 1-based line and column of `start`, for humans and SARIF. */
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface ScanReport {
  engine: string;
  fallbackReason?: string;
  findings: FileFinding[];
  /** Inputs that could not be inspected completely, with the reason. */
  uninspected: { file: string; code: string; reason: string }[];
}
