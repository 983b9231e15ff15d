// The `fulcrum` command line.
import { Command, Option } from 'commander';
import { DEFAULTS, parseEdgeServicesIps, parseListen, parseRateLimit, parseZones, resolveDataDir } from './config.js';
import { createKey, listKeys, revokeKey } from './keys-cli.js';
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
  .addOption(new Option('--rate-limit <n>', 'requests per second per secret key; over it, 429 too_many_requests (0: no limit)')
    .env('FULCRUM_RATE_LIMIT').default(DEFAULTS.rateLimit))
  .addOption(new Option('--edge-services-ips <list>', 'addresses and CIDRs (comma-separated) that ACLs with ips_edge_services match')
    .env('FULCRUM_EDGE_SERVICES_IPS').default(DEFAULTS.edgeServicesIps))
  .addOption(new Option('--rate-limit-burst <n>', 'requests a key may send at once (default: twice --rate-limit)').env('FULCRUM_RATE_LIMIT_BURST'))
  .addOption(new Option('--admin-rate-limit <n>', 'requests per second of the admin key, in bursts of twice that (0: no limit)')
    .env('FULCRUM_ADMIN_RATE_LIMIT').default(DEFAULTS.adminRateLimit))
  .addOption(new Option('--acme-directory <url>', 'ACME directory for Let\'s Encrypt certificates').env('FULCRUM_ACME_DIRECTORY')
    .default(DEFAULTS.acmeDirectory))
  .addOption(new Option('--acme-email <address>', 'contact address of the ACME account (optional)').env('FULCRUM_ACME_EMAIL'))
  .addOption(new Option('--acme-ca-file <file>', 'extra CA certificates (PEM) to trust for the ACME server\'s HTTPS (private or test CA)')
    .env('FULCRUM_ACME_CA_FILE'))
  .addHelpText('after', `
Environment:
  FULCRUM_SECRET_KEY   the admin secret key (a UUID), sent by clients as X-Auth-Token. When unset, one is generated on
                       first start, stored in the data dir and printed once.
  FULCRUM_LISTEN, FULCRUM_DATA_DIR, FULCRUM_IP_POOL, FULCRUM_ZONE, FULCRUM_DATAPLANE, FULCRUM_LOG_LEVEL,
  FULCRUM_RATE_LIMIT, FULCRUM_RATE_LIMIT_BURST, FULCRUM_ADMIN_RATE_LIMIT, FULCRUM_ACME_DIRECTORY, FULCRUM_ACME_EMAIL,
  FULCRUM_ACME_CA_FILE, FULCRUM_EDGE_SERVICES_IPS: as the flags.
  Project-scoped keys: see \`fulcrum keys --help\`.

API: http://<listen>/lb/v1/zones/<zone>/... — point the Scaleway SDKs, scw CLI or Terraform at http://<listen>.`)
  .action(async (opts: {
    listen: string; dataDir: string; ipPool: string; zone: string[]; dataplane: 'haproxy' | 'none'; logLevel: string;
    rateLimit: string; rateLimitBurst?: string; adminRateLimit: string; acmeDirectory: string; acmeEmail?: string;
    acmeCaFile?: string; edgeServicesIps: string;
  }) => {
    const zones = env('ZONE') && opts.zone.length === 1 && opts.zone[0] === DEFAULTS.zone ? env('ZONE')!.split(',') : opts.zone;
    const running = await serve({
      listen: parseListen(opts.listen),
      dataDir: resolveDataDir(opts.dataDir),
      ipPool: opts.ipPool,
      zones: parseZones(zones),
      secretKey: env('SECRET_KEY') ?? null,
      dataplane: opts.dataplane,
      logLevel: opts.logLevel,
      rateLimit: parseRateLimit(opts.rateLimit, opts.rateLimitBurst),
      adminRateLimit: parseRateLimit(opts.adminRateLimit, undefined, '--admin-rate-limit'),
      acme: { directoryUrl: opts.acmeDirectory, email: opts.acmeEmail ?? null, caFile: opts.acmeCaFile ?? null },
      edgeServicesIps: parseEdgeServicesIps(opts.edgeServicesIps),
    });
    const stop = () => { void running.close().then(() => process.exit(0)); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

const dataDirOption = () => new Option('--data-dir <dir>', 'the data dir of `fulcrum serve`').env('FULCRUM_DATA_DIR').default(DEFAULTS.dataDir);
const print = (text: string) => { process.stdout.write(`${text}\n`); };
const keys = program.command('keys')
  .description('Project-scoped secret keys: each sees and changes only its project. Stored hashed in the data dir; a running `fulcrum serve` sees changes at once.');
keys.command('create')
  .description('Create a key for one project and print its secret key, once')
  .requiredOption('--project <uuid>', 'the project the key may see and change')
  .option('--description <text>', 'a note shown by `keys list`')
  .option('--json', 'print JSON (with secret_key)')
  .addOption(dataDirOption())
  .action(async (o: { project: string; description?: string; json?: boolean; dataDir: string }) => {
    print(await createKey(resolveDataDir(o.dataDir), o));
  });
keys.command('list')
  .description('List the keys (never their secrets), revoked ones too')
  .option('--json', 'print JSON')
  .addOption(dataDirOption())
  .action(async (o: { json?: boolean; dataDir: string }) => { print(await listKeys(resolveDataDir(o.dataDir), o)); });
keys.command('revoke')
  .description('Revoke a key, named by its access key or id; refused from the next request on')
  .argument('<key>', 'access key (SCW…) or id')
  .addOption(dataDirOption())
  .action(async (name: string, o: { dataDir: string }) => { print(await revokeKey(resolveDataDir(o.dataDir), name)); });

program.parseAsync().catch((err: Error) => {
  process.stderr.write(`fulcrum: ${err.message}\n`);
  process.exit(1);
});
