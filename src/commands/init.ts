import {Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base.js'
import {color} from '../cli/output.js'
import {init, WITH_CHOICES, type InitResult} from '../init/init.js'

export default class Init extends BaseCommand {
  static summary = 'Write flip.config.json and scheduling files (cron, systemd, Kubernetes, GitHub Actions, GitLab CI), or CI jobs that lease a db each.'

  static description = `The schedule is validated and its next three fire times in the zone are printed. \
Existing files are never overwritten without --force. Templates come from the package's templates/init/; \
the files they make run flip through npx pinned to this version (npx --yes --package=<%= config.pjson.name %>@<%= config.version %> flip), \
so the host or runner needs only Node.js. Without --with, only flip.config.json is written.`

  static examples = [
    {description: 'Config only', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Cut over at 00:01 New York time, with a systemd timer and a Kubernetes CronJob', command: "<%= config.bin %> <%= command.id %> --cron '1 0 * * *' --tz America/New_York --with systemd,k8s"},
    {description: 'A GitHub Actions matrix job and a GitLab parallel: job that lease a db per CI job (with its own user) and release it', command: '<%= config.bin %> <%= command.id %> --with ci-lease'},
    {description: 'Everything, replacing files written before', command: "<%= config.bin %> <%= command.id %> --cron '1 0 27 11 *' --tz Europe/Berlin --with cron,systemd,k8s,github,gitlab --force"},
  ]

  static flags = {
    cron: Flags.string({summary: 'When the cutover runs: a 5-field cron expression (default "1 0 * * *").'}),
    tz: Flags.string({summary: 'IANA time zone of the schedule (default: local time).', env: 'FLIP_TZ'}),
    with: Flags.string({summary: `Files to write, comma-separated: ${WITH_CHOICES.join(',')} (ci-lease: CI jobs that lease a db each; needs no schedule).`, delimiter: ',', multiple: true}),
    url: Flags.string({summary: 'Server URL to record in flip.config.json (no password: use FLIP_PASSWORD).'}),
    'not-after': Flags.string({summary: 'How late a triggered cutover may still fire.', default: '5m'}),
    data: Flags.string({summary: 'Dataset file the CI templates stage.', default: 'data/prices.ndjson'}),
    dir: Flags.string({summary: 'Directory to write into.', default: '.'}),
    force: Flags.boolean({summary: 'Overwrite existing files.'}),
  }

  async run(): Promise<InitResult> {
    const {flags} = await this.parse(Init)
    const result = await init({
      dir: flags.dir,
      cron: flags.cron,
      tz: flags.tz,
      with: flags.with,
      force: flags.force,
      notAfter: flags['not-after'],
      dataFile: flags.data,
      config: {url: flags.url, stateDir: flags['state-dir']},
    })
    for (const file of result.files) {
      this.log(`${color.green(file.overwritten ? 'overwrote' : 'wrote')} ${file.path}  ${color.dim(file.what)}`)
    }
    if (result.schedule) {
      this.log(`schedule ${result.schedule.cron} (${result.schedule.tz}); next: ${result.schedule.next.map((n) => n.local).join(', ')}`)
    }
    return result
  }
}
