// Base of `flip engine start|stop|status`: where the engine's files are (--dir, default
// <state-dir>/engine) and where its record for the other commands goes (the state dir).
import {Flags} from '@oclif/core'
import {join, resolve} from 'node:path'
import {BaseCommand} from './base.js'
import {resolveConfig} from './config.js'

export const engineDirFlag = (summary: string) => Flags.string({summary, description: 'Default: <state-dir>/engine (.flip/engine).'})

export abstract class EngineCommand extends BaseCommand {
  /** The state directory and the engine's directory, both absolute. */
  protected engineDirs(flags: {'state-dir'?: string; dir?: string}): {stateDir: string; dir: string} {
    const stateDir = resolve(resolveConfig({stateDir: flags['state-dir']}).stateDir)
    return {stateDir, dir: resolve(flags.dir ?? join(stateDir, 'engine'))}
  }
}
