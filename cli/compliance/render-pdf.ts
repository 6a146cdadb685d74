// HTML to PDF with headless Chromium (Debian package `chromium`). Run with a
// fresh profile directory and everything that phones home turned off, so a
// report run never touches the network or the user's browser profile.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KdlpError } from '../../proxy/errors/kdlp-error';

export class PdfRenderError extends KdlpError {
  readonly code = 'KDLP_PDF_RENDER';
  constructor(message: string) {
    super(message);
  }
}

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function chromiumBinary(): string {
  return process.env.KDLP_CHROMIUM ?? 'chromium';
}

/** Runs chromium with CHROMIUM_FLAGS, a fresh user-data dir and `args`. */
export function runChromium(args: string[], timeoutMs = 90_000): Promise<void> {
  const profile = mkdtempSync(join(tmpdir(), 'kdlp-chromium-'));
  return new Promise<void>((resolve, reject) => {
    execFile(chromiumBinary(), [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, ...args], { timeout: timeoutMs }, (err, _out, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      if (!err) return resolve();
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(new PdfRenderError(`${chromiumBinary()} not found: install the Debian package "chromium" (scripts/ensure-deps.sh does) or set KDLP_CHROMIUM to its path`));
      }
      reject(new PdfRenderError(`chromium failed: ${err.message.split('\n')[0]}${stderr ? `\n${stderr.split('\n').slice(-5).join('\n')}` : ''}`));
    });
  });
}

export async function renderPdf(html: string): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'kdlp-report-'));
  try {
    const page = join(dir, 'report.html');
    const out = join(dir, 'report.pdf');
    writeFileSync(page, html);
    await runChromium([`--print-to-pdf=${out}`, '--no-pdf-header-footer', `file://${page}`]);
    const pdf = readFileSync(out);
    if (!pdf.subarray(0, 5).equals(Buffer.from('%PDF-'))) throw new PdfRenderError('chromium wrote something that is not a PDF');
    return pdf;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A PNG screenshot of an HTML page at the given viewport (for panel images). */
export async function renderPng(html: string, width: number, height: number): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'kdlp-shot-'));
  try {
    const page = join(dir, 'page.html');
    const out = join(dir, 'page.png');
    writeFileSync(page, html);
    await runChromium([`--screenshot=${out}`, `--window-size=${width},${height}`, '--hide-scrollbars', `file://${page}`]);
    const png = readFileSync(out);
    if (!png.subarray(1, 4).equals(Buffer.from('PNG'))) throw new PdfRenderError('chromium wrote something that is not a PNG');
    return png;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
