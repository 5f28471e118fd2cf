/**
 * A small concurrency limiter: at most `limit` tasks in flight, so thousands of small objects go out over a
 * bounded number of sockets.
 *
 * @example
 * const limit = limiter(16)
 * await Promise.all(files.map((f) => limit(() => upload(f))))
 */
export function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/** Retries `task` with exponential back-off (plus jitter) while `retryable(err)` holds. */
export async function withBackoff<T>(
  task: () => Promise<T>,
  options: {
    attempts: number;
    baseMs: number;
    retryable: (err: unknown) => boolean;
    onRetry?: (err: unknown, waitMs: number) => void;
  },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await task();
    } catch (err) {
      if (attempt >= options.attempts || !options.retryable(err)) throw err;
      const waitMs = options.baseMs * 2 ** (attempt - 1) * (0.5 + Math.random());
      options.onRetry?.(err, waitMs);
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }
}
