// --notify: which webhooks hear about a command, and the one-line text chat shows for it.
// cutover and rollback also take them from FLIP_NOTIFY and flip.config.json's "notify": those
// are the runs nobody watches. stage and verify notify only when asked on the command line.
import {Flags} from '@oclif/core'
import {invalidWebhook} from '../cutover/notify.js'
import {EXIT, FlipError} from '../util/exit-codes.js'
import type {FlipConfig} from './config.js'

export const notifyFlag = Flags.string({
  summary: 'POST the JSON result to this webhook when done, failed or refused (repeatable).',
  description: 'The body is the --json document plus a one-line "text" (chat webhooks show it). 5 s timeout, one retry; a failed notification is a warning, never a failure. The URL is never printed or stored.',
  multiple: true,
})

/** The webhooks for this run: the flag, else (when `unattended`) FLIP_NOTIFY, else flip.config.json. */
export function webhooksFor(flag: string[] | undefined, config: Pick<FlipConfig, 'notify'>, unattended: boolean, env: NodeJS.ProcessEnv = process.env): string[] {
  let urls: string[] = flag ?? []
  if (urls.length === 0 && unattended) {
    const fromEnv = env.FLIP_NOTIFY?.split(/[\s,]+/).filter(Boolean) ?? []
    urls = fromEnv.length > 0 ? fromEnv : typeof config.notify === 'string' ? [config.notify] : (config.notify ?? [])
  }
  for (const url of urls) {
    const invalid = invalidWebhook(url)
    if (invalid) throw new FlipError(`--notify: ${invalid}`, EXIT.usage)
  }
  return urls
}

type Doc = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any -- a --json document of any command

/** The one line a chat webhook shows for a command's document (its result, or result + error). */
export function notificationText(command: string, document: Doc): string {
  const error = document.error as {code: number; message: string} | undefined
  if (error) return `flip ${command} ${error.code === EXIT.interrupted ? 'interrupted' : error.code === EXIT.checkFailed ? 'refused or failed' : 'failed'} (exit ${error.code}): ${error.message}`
  const count = (n: unknown) => (typeof n === 'number' ? n.toLocaleString('en-US') : '?')
  switch (command) {
    case 'cutover':
      if (document.dryRun) return `flip cutover dry run: nothing changed`
      return `flip cutover done: ${count(document.keysSwitched)} keys now live in db ${document.summary?.dbs?.live} (plan ${document.planId}, ${document.strategy}/${document.mode}, drift ${document.driftMs} ms); undo with: ${document.rollbackCommand}`
    case 'rollback':
      return document.alreadyDone
        ? `flip rollback: plan ${document.planId} had nothing to undo`
        : `flip rollback done: plan ${document.planId} undone, ${count(document.keysRestored)} keys back in live`
    case 'stage':
      return `flip stage done: ${count(document.keys)} keys in db ${document.db} (manifest ${document.id})`
    case 'verify':
      return `flip verify: db ${document.db} matches ${document.against === 'manifest' ? `manifest ${document.manifest?.id}` : 'the source files'} (${count(document.keys)} keys)`
    default:
      return `flip ${command} done`
  }
}
