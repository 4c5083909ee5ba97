// Waiting for something a test cannot be told about (a background save, a process exiting):
// poll until it holds, instead of sleeping a guessed time that a busy machine overruns.

/** Resolves once check() is true; gives up (resolves) after timeoutMs, leaving the test's own assertion to fail. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 30_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, everyMs))
}
