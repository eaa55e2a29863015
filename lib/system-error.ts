// A Node system error in words a user reads: the errno text without the code and the path,
// which the caller already names ("ENOSPC: no space left on device, write" → "no space
// left on device").
export function systemErrorReason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const m = /^E[A-Z0-9]+: (.*?)(?:, [a-z_]+(?: '.*')?)?$/.exec(message);
  return m?.[1] ?? message;
}

/** An error from the operating system (errno code such as ENOENT), not a bug in the program. */
export function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return e instanceof Error && typeof code === 'string' && /^E[A-Z0-9]+$/.test(code);
}
