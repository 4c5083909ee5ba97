// Types for temp-guard.mjs (plain JS so that test/run.mjs can use it before anything is built).
export declare const RUN_DIR_ENV: string
export interface Leftovers {
  entries: string[]
  processes: Array<{pid: number; command: string}>
}
export declare function createRunDir(): string
export declare function runEnv(dir: string, env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv
export declare function findLeftovers(dir: string, graceMs?: number): Leftovers
export declare function describeLeftovers(leftovers: Leftovers): string[]
export declare function cleanUpRun(dir: string, leftovers: Pick<Leftovers, 'processes'>): void
