// Notifications: the command's JSON document POSTed to webhooks after the command is done, so a
// switch nobody watches still tells someone. A notification never delays or fails the work it
// reports: it is sent afterwards, with a timeout and one retry, and its failure is only returned.
// Webhook URLs carry secrets (a token in the path or query): only redactWebhook() of one is ever shown.

export interface Notification {
  /** One line a chat webhook shows as the message ("flip cutover done: …"). */
  text: string
  /** The command's --json document (its result, or its result with `error`). */
  document: object
}

export interface NotifyOptions {
  /** Per attempt (default 5000). */
  timeoutMs?: number
  /** Attempts after the first when it fails (default 1). */
  retries?: number
}

export interface NotifyOutcome {
  /** The webhook without its secrets: scheme, host and port only. */
  webhook: string
  ok: boolean
  /** HTTP status of the last attempt, when there was an answer. */
  status?: number
  attempts: number
  /** Why it failed, never containing the URL. */
  error?: string
}

/** POSTs `{text, ...document}` as JSON to every URL, in parallel; resolves when all are done or given up. */
export async function notify(urls: readonly string[], notification: Notification, options: NotifyOptions = {}): Promise<NotifyOutcome[]> {
  const body = JSON.stringify({text: notification.text, ...notification.document})
  return Promise.all(urls.map((url) => post(url, body, options)))
}

async function post(url: string, body: string, options: NotifyOptions): Promise<NotifyOutcome> {
  const webhook = redactWebhook(url)
  const attempts = 1 + (options.retries ?? 1)
  let outcome: NotifyOutcome = {webhook, ok: false, attempts: 0}
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {'content-type': 'application/json', 'user-agent': 'flip'},
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      })
      await response.arrayBuffer().catch(() => undefined)
      outcome = {webhook, ok: response.ok, status: response.status, attempts: attempt, error: response.ok ? undefined : `HTTP ${response.status}`}
      // A 4xx other than 429 will not change on a retry (a wrong token, a malformed URL).
      if (response.ok || (response.status < 500 && response.status !== 429)) return outcome
    } catch (error) {
      outcome = {webhook, ok: false, attempts: attempt, error: describeFailure(error)}
    }
  }
  return outcome
}

function describeFailure(error: unknown): string {
  const e = error as {name?: string; cause?: {code?: string; message?: string}; message?: string}
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timed out'
  // fetch wraps the socket error; its code says what happened without the URL.
  return e?.cause?.code ?? e?.cause?.message ?? 'request failed'
}

/** "https://hooks.example.com/…": enough to tell webhooks apart, nothing that grants access. */
export function redactWebhook(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.protocol}//${parsed.host}/…`
  } catch {
    return '(not a valid URL)'
  }
}

/** Checks a webhook URL before any work starts, so a typo is a usage error and not a silent miss. */
export function invalidWebhook(url: string): string | undefined {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return `not a valid URL: ${redactWebhook(url)}`
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `only http and https webhooks are supported, got ${parsed.protocol}//`
  return undefined
}
