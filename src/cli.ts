// The `fulcrum` command line.
import { Command, Option } from 'commander';
import { DEFAULTS, parseListen, parseZones, resolveDataDir } from './config.js';
import { serve } from './serve.js';

const env = (name: string) => process.env[`FULCRUM_${name}`];

const program = new Command('fulcrum')
  .description('Self-hosted load balancer: the Scaleway Load Balancer API v1 (zoned), carried by HAProxy.');

program.command('serve')
  .description('Run the API, the reconciler and the HAProxy supervisor. HAProxy processes outlive this one.')
  .addOption(new Option('--listen <host:port>', 'address of the API').env('FULCRUM_LISTEN').default(DEFAULTS.listen))
  .addOption(new Option('--data-dir <dir>', 'where the SQLite store and each LB\'s HAProxy files live').env('FULCRUM_DATA_DIR').default(DEFAULTS.dataDir))
  .addOption(new Option('--ip-pool <cidr|list>', 'addresses given to load balancers as flexible IPs (a CIDR, or a comma-separated list of CIDRs and addresses)')
    .env('FULCRUM_IP_POOL').default(DEFAULTS.ipPool))
  .addOption(new Option('--zone <name...>', 'zones served (repeatable); FULCRUM_ZONE takes a comma-separated list').default([DEFAULTS.zone]))
  .addOption(new Option('--dataplane <kind>', 'haproxy (real traffic) or none (API only, nothing listens)').choices(['haproxy', 'none'])
    .env('FULCRUM_DATAPLANE').default(DEFAULTS.dataplane))
  .addOption(new Option('--log-level <level>', 'pino log level').env('FULCRUM_LOG_LEVEL').default(DEFAULTS.logLevel))
  .addHelpText('after', `
Environment:
  FULCRUM_SECRET_KEY   the admin secret key (a UUID), sent by clients as X-Auth-Token. When unset, one is generated on
                       first start, stored in the data dir and printed once.
  FULCRUM_LISTEN, FULCRUM_DATA_DIR, FULCRUM_IP_POOL, FULCRUM_ZONE, FULCRUM_DATAPLANE, FULCRUM_LOG_LEVEL: as the flags.

API: http://<listen>/lb/v1/zones/<zone>/... — point the Scaleway SDKs, scw CLI or Terraform at http://<listen>.`)
  .action(async (opts: { listen: string; dataDir: string; ipPool: string; zone: string[]; dataplane: 'haproxy' | 'none'; logLevel: string }) => {
    const zones = env('ZONE') && opts.zone.length === 1 && opts.zone[0] === DEFAULTS.zone ? env('ZONE')!.split(',') : opts.zone;
    const running = await serve({
      listen: parseListen(opts.listen),
      dataDir: resolveDataDir(opts.dataDir),
      ipPool: opts.ipPool,
      zones: parseZones(zones),
      secretKey: env('SECRET_KEY') ?? null,
      dataplane: opts.dataplane,
      logLevel: opts.logLevel,
    });
    const stop = () => { void running.close().then(() => process.exit(0)); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program.parseAsync().catch((err: Error) => {
  process.stderr.write(`fulcrum: ${err.message}\n`);
  process.exit(1);
});
