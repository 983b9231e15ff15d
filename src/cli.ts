// The `fulcrum` command line.
import { networkInterfaces } from 'node:os';
import { Command, Option } from 'commander';
import pino from 'pino';
import { DEFAULTS, parseEdgeServicesIps, parseListen, parseLogRotation, parseRateLimit, parseSmtp, parseZones, resolveDataDir } from './config.js';
import { parsePrivateNetworks } from './domain/private-networks.js';
import { parsePnInterfaces } from './cluster/names.js';
import { createKey, listKeys, revokeKey } from './keys-cli.js';
import { serve } from './serve.js';
import { parseStoreUrl } from './store/open.js';
import { readPemKey, type PemSealer } from './store/pem-seal.js';
import { printLogs } from './ops/logs-cli.js';
import { setServer, showServer, type ServerChange, type ServerCliOptions } from './ops/server-cli.js';

const env = (name: string) => process.env[`FULCRUM_${name}`];

const pemKeyFileOption = () => new Option('--pem-key-file <file>', 'file holding the key that seals certificates\' PEMs in a PostgreSQL store '
  + '(32 bytes in base64); instead of FULCRUM_PEM_KEY').env('FULCRUM_PEM_KEY_FILE');

/** The PEM sealing key, taken out of the environment so that HAProxy and keepalived do not inherit it. */
function pemSealer(file: string | undefined): PemSealer | null {
  const sealer = readPemKey(env('PEM_KEY'), file, env('PEM_KEY_PREVIOUS'));
  delete process.env.FULCRUM_PEM_KEY;
  delete process.env.FULCRUM_PEM_KEY_PREVIOUS;
  return sealer;
}

const program = new Command('fulcrum')
  .description('Self-hosted load balancer: the Scaleway Load Balancer API v1 (zoned), carried by HAProxy.');

program.command('serve')
  .description('Run the API, the reconciler and the HAProxy supervisor. HAProxy processes outlive this one.')
  .addOption(new Option('--listen <host:port>', 'address of the API').env('FULCRUM_LISTEN').default(DEFAULTS.listen))
  .addOption(new Option('--data-dir <dir>', 'where the SQLite store (unless --store) and each LB\'s HAProxy files live').env('FULCRUM_DATA_DIR').default(DEFAULTS.dataDir))
  .addOption(new Option('--store <url>', 'postgres://USER:PASSWORD@HOST:PORT/DB: state in PostgreSQL, shared by any number of `fulcrum serve` (default: SQLite in the data dir)')
    .env('FULCRUM_STORE'))
  .addOption(new Option('--ip-pool <cidr|list>', 'addresses given to load balancers as flexible IPs (a CIDR, or a comma-separated list of CIDRs and addresses)')
    .env('FULCRUM_IP_POOL').default(DEFAULTS.ipPool))
  .addOption(new Option('--zone <name...>', 'zones served (repeatable); FULCRUM_ZONE takes a comma-separated list').default([DEFAULTS.zone]))
  .addOption(new Option('--dataplane <kind>', 'haproxy (real traffic), none (API only, nothing listens) or agents (the LBs run on `fulcrum agent` nodes; needs --store)')
    .choices(['haproxy', 'none', 'agents'])
    .env('FULCRUM_DATAPLANE').default(DEFAULTS.dataplane))
  .addOption(new Option('--log-level <level>', 'pino log level').env('FULCRUM_LOG_LEVEL').default(DEFAULTS.logLevel))
  .addOption(new Option('--rate-limit <n>', 'requests per second per secret key; over it, 429 too_many_requests (0: no limit)')
    .env('FULCRUM_RATE_LIMIT').default(DEFAULTS.rateLimit))
  .addOption(new Option('--edge-services-ips <list>', 'addresses and CIDRs (comma-separated) that ACLs with ips_edge_services match')
    .env('FULCRUM_EDGE_SERVICES_IPS').default(DEFAULTS.edgeServicesIps))
  .addOption(new Option('--rate-limit-burst <n>', 'requests a key may send at once (default: twice --rate-limit)').env('FULCRUM_RATE_LIMIT_BURST'))
  .addOption(new Option('--metrics-public', 'serve /metrics without a key (by default it needs the admin key)').env('FULCRUM_METRICS_PUBLIC'))
  .addOption(new Option('--log-max-bytes <n>', 'each LB\'s access.log and haproxy.log are rotated past this size').env('FULCRUM_LOG_MAX_BYTES')
    .default(DEFAULTS.logMaxBytes))
  .addOption(new Option('--log-keep <n>', 'rotated files kept per log').env('FULCRUM_LOG_KEEP').default(DEFAULTS.logKeep))
  .addOption(new Option('--admin-rate-limit <n>', 'requests per second of the admin key, in bursts of twice that (0: no limit)')
    .env('FULCRUM_ADMIN_RATE_LIMIT').default(DEFAULTS.adminRateLimit))
  .addOption(new Option('--private-network <id=cidr...>', 'a private network LBs may attach to (repeatable); FULCRUM_PRIVATE_NETWORK takes a comma-separated list')
    .default([]))
  .addOption(new Option('--smtp-url <url>', 'SMTP relay of email alerts, smtp://HOST:PORT').env('FULCRUM_SMTP_URL'))
  .addOption(new Option('--smtp-from <address>', 'sender address of email alerts').env('FULCRUM_SMTP_FROM'))
  .addOption(new Option('--acme-directory <url>', 'ACME directory for Let\'s Encrypt certificates').env('FULCRUM_ACME_DIRECTORY')
    .default(DEFAULTS.acmeDirectory))
  .addOption(new Option('--acme-email <address>', 'contact address of the ACME account (optional)').env('FULCRUM_ACME_EMAIL'))
  .addOption(new Option('--acme-ca-file <file>', 'extra CA certificates (PEM) to trust for the ACME server\'s HTTPS (private or test CA)')
    .env('FULCRUM_ACME_CA_FILE'))
  .addOption(pemKeyFileOption())
  .addHelpText('after', `
Environment:
  FULCRUM_SECRET_KEY   the admin secret key (a UUID), sent by clients as X-Auth-Token. When unset, one is generated on
                       first start, stored in the store (the data dir, or --store) and printed once.
  FULCRUM_STORE        as --store; better than the flag, which other users see in the process list. The password may
                       also come from PGPASSWORD (leave it out of the URL). docs/scale-out.md: several API servers.
  FULCRUM_PEM_KEY      with --store: seals certificates' PEMs in the store (AES-256-GCM), so that every process can
                       serve them; 32 bytes in base64 (\`openssl rand -base64 32\`), the same on every process. Needed
                       with --dataplane agents. Or --pem-key-file. FULCRUM_PEM_KEY_PREVIOUS: keys being rotated out
                       (comma-separated), which still open what they sealed; at start, serve seals it again.
  FULCRUM_LISTEN, FULCRUM_DATA_DIR, FULCRUM_IP_POOL, FULCRUM_ZONE, FULCRUM_DATAPLANE, FULCRUM_LOG_LEVEL,
  FULCRUM_RATE_LIMIT, FULCRUM_RATE_LIMIT_BURST, FULCRUM_ADMIN_RATE_LIMIT, FULCRUM_ACME_DIRECTORY, FULCRUM_ACME_EMAIL,
  FULCRUM_ACME_CA_FILE, FULCRUM_EDGE_SERVICES_IPS, FULCRUM_METRICS_PUBLIC, FULCRUM_LOG_MAX_BYTES, FULCRUM_LOG_KEEP,
  FULCRUM_PRIVATE_NETWORK, FULCRUM_SMTP_URL, FULCRUM_SMTP_FROM: as the flags.
  Beside the API: /metrics (docs/metrics.md), /ui/ (the dashboard), /openapi.json, /fulcrum/v1/... (docs/operations.md).
  Project-scoped keys: see \`fulcrum keys --help\`.

API: http://<listen>/lb/v1/zones/<zone>/... — point the Scaleway SDKs, scw CLI or Terraform at http://<listen>.`)
  .action(async (opts: {
    listen: string; dataDir: string; store?: string; ipPool: string; zone: string[]; dataplane: 'haproxy' | 'none' | 'agents'; logLevel: string;
    rateLimit: string; rateLimitBurst?: string; adminRateLimit: string; acmeDirectory: string; acmeEmail?: string;
    acmeCaFile?: string; edgeServicesIps: string; metricsPublic?: boolean; logMaxBytes: string; logKeep: string;
    privateNetwork: string[]; smtpUrl?: string; smtpFrom?: string; pemKeyFile?: string;
  }) => {
    const networks = opts.privateNetwork.length ? opts.privateNetwork : (env('PRIVATE_NETWORK') ?? '').split(',');
    const zones = env('ZONE') && opts.zone.length === 1 && opts.zone[0] === DEFAULTS.zone ? env('ZONE')!.split(',') : opts.zone;
    const running = await serve({
      listen: parseListen(opts.listen),
      dataDir: resolveDataDir(opts.dataDir),
      store: parseStoreUrl(opts.store),
      ipPool: opts.ipPool,
      zones: parseZones(zones),
      secretKey: env('SECRET_KEY') ?? null,
      dataplane: opts.dataplane,
      logLevel: opts.logLevel,
      rateLimit: parseRateLimit(opts.rateLimit, opts.rateLimitBurst),
      metricsPublic: opts.metricsPublic === true,
      logRotation: parseLogRotation(opts.logMaxBytes, opts.logKeep),
      adminRateLimit: parseRateLimit(opts.adminRateLimit, undefined, '--admin-rate-limit'),
      privateNetworks: parsePrivateNetworks(networks),
      smtp: parseSmtp(opts.smtpUrl, opts.smtpFrom),
      acme: { directoryUrl: opts.acmeDirectory, email: opts.acmeEmail ?? null, caFile: opts.acmeCaFile ?? null },
      edgeServicesIps: parseEdgeServicesIps(opts.edgeServicesIps),
      pemSealer: pemSealer(opts.pemKeyFile),
    });
    const stop = () => { void running.close().then(() => process.exit(0)); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program.command('agent')
  .description('Run the HAProxy instances and keepalived of the LBs placed on this node (no API); see docs/scale-out.md')
  .addOption(new Option('--store <url>', 'the PostgreSQL store of `fulcrum serve --dataplane agents` (postgres://…)').env('FULCRUM_STORE')
    .makeOptionMandatory())
  .addOption(new Option('--node <name>', 'this node\'s name (lowercase letters, digits, dashes), unique in the cluster').env('FULCRUM_NODE')
    .makeOptionMandatory())
  .addOption(new Option('--interface <name>', 'the interface on the LBs\' network: keepalived puts LB addresses there').env('FULCRUM_INTERFACE')
    .default('eth0'))
  .addOption(new Option('--node-address <ip>', 'this node\'s IPv4 address on that network (VRRP and HAProxy peers); default: the interface\'s first')
    .env('FULCRUM_NODE_ADDRESS'))
  .addOption(new Option('--data-dir <dir>', 'where the LBs\' HAProxy files and keepalived\'s live').env('FULCRUM_DATA_DIR').default(DEFAULTS.dataDir))
  .addOption(new Option('--private-network <id=iface...>', 'this node\'s interface on a private network of `serve --private-network` (repeatable); '
    + 'an LB attached to it has its address there while this node holds its addresses; FULCRUM_PRIVATE_NETWORK takes a comma-separated list')
    .default([]))
  .addOption(new Option('--metrics-listen <host:port>', 'serve the metrics of this node\'s LBs (GET /metrics, no key: bind it where only Prometheus reaches)')
    .env('FULCRUM_METRICS_LISTEN'))
  .addOption(new Option('--log-level <level>', 'pino log level').env('FULCRUM_LOG_LEVEL').default(DEFAULTS.logLevel))
  .addOption(pemKeyFileOption())
  .addHelpText('after', `
Environment:
  FULCRUM_PEM_KEY   the key the API servers seal certificates' PEMs with (required; or --pem-key-file)
  FULCRUM_PEM_KEY_PREVIOUS   during a key rotation, the keys being replaced (comma-separated): they still open`)
  .action(async (o: { store: string; node: string; interface: string; nodeAddress?: string; dataDir: string; privateNetwork: string[];
    metricsListen?: string; logLevel: string; pemKeyFile?: string }) => {
    const networks = o.privateNetwork.length ? o.privateNetwork : (env('PRIVATE_NETWORK') ?? '').split(',');
    const { runAgent } = await import('./agent/agent.js');
    const running = await runAgent({ store: parseStoreUrl(o.store)!, node: o.node, iface: o.interface, nodeAddress: o.nodeAddress ?? interfaceAddress(o.interface),
      dataDir: resolveDataDir(o.dataDir), pnInterfaces: parsePnInterfaces(networks),
      metricsListen: o.metricsListen ? parseListen(o.metricsListen, '--metrics-listen') : null, pemSealer: pemSealer(o.pemKeyFile) },
    pino({ level: o.logLevel }));
    const stop = () => { void running.close().then(() => process.exit(0)); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

/** The first IPv4 address of a local interface. */
function interfaceAddress(name: string): string {
  const a = networkInterfaces()[name]?.find((x) => x.family === 'IPv4');
  if (!a) throw new Error(`--interface ${name} has no IPv4 address here: give --node-address`);
  return a.address;
}

const dataDirOption = () => new Option('--data-dir <dir>', 'the data dir of `fulcrum serve`').env('FULCRUM_DATA_DIR').default(DEFAULTS.dataDir);
const storeOption = () => new Option('--store <url>', 'the PostgreSQL store of `fulcrum serve` (postgres://…), if it uses one').env('FULCRUM_STORE');
type StoreOptions = { dataDir: string; store?: string };
const storeOf = (o: StoreOptions) => ({ dataDir: resolveDataDir(o.dataDir), storeUrl: parseStoreUrl(o.store) });
const print = (text: string) => { process.stdout.write(`${text}\n`); };
const keys = program.command('keys')
  .description('Project-scoped secret keys: each sees and changes only its project. Stored hashed in the store (the data dir, or --store); a running `fulcrum serve` sees changes at once.');
keys.command('create')
  .description('Create a key for one project and print its secret key, once')
  .requiredOption('--project <uuid>', 'the project the key may see and change')
  .option('--description <text>', 'a note shown by `keys list`')
  .option('--json', 'print JSON (with secret_key)')
  .addOption(dataDirOption())
  .addOption(storeOption())
  .action(async (o: { project: string; description?: string; json?: boolean } & StoreOptions) => {
    print(await createKey(storeOf(o), o));
  });
keys.command('list')
  .description('List the keys (never their secrets), revoked ones too')
  .option('--json', 'print JSON')
  .addOption(dataDirOption())
  .addOption(storeOption())
  .action(async (o: { json?: boolean } & StoreOptions) => { print(await listKeys(storeOf(o), o)); });
keys.command('revoke')
  .description('Revoke a key, named by its access key or id; refused from the next request on')
  .argument('<key>', 'access key (SCW…) or id')
  .addOption(dataDirOption())
  .addOption(storeOption())
  .action(async (name: string, o: StoreOptions) => { print(await revokeKey(storeOf(o), name)); });

program.command('logs')
  .description('Print a load balancer\'s access log (frontends with enable_access_logs), rotated files first; or HAProxy\'s own log')
  .argument('<lb-id>')
  .option('-f, --follow', 'keep printing lines as they are written')
  .option('--process', 'HAProxy\'s own log (alerts, warnings, server state changes) instead of the access log')
  .addOption(dataDirOption())
  .action(async (lbId: string, o: { follow?: boolean; process?: boolean; dataDir: string }) => {
    await printLogs(resolveDataDir(o.dataDir), lbId, o);
  });

const apiOptions = (c: Command) => c
  .addOption(new Option('--url <url>', 'the API of `fulcrum serve`').env('FULCRUM_URL').default(`http://${DEFAULTS.listen}`))
  .addOption(new Option('--key <secret-key>', 'a secret key (X-Auth-Token)').env('FULCRUM_SECRET_KEY'))
  .addOption(new Option('--zone <zone>', 'the zone of the backend').env('FULCRUM_ZONE').default(DEFAULTS.zone))
  .option('--json', 'print JSON');
const server = program.command('server')
  .description('Weight, drain/maintenance and slow start of one pool server, through the API of a running `fulcrum serve` (no reload for weight and state)');
apiOptions(server.command('show')
  .description('The server\'s settings and live state')
  .argument('<backend-id>').argument('<ip>'))
  .action(async (backendId: string, ip: string, o: ServerCliOptions) => { print(await showServer(backendId, ip, o)); });
apiOptions(server.command('set')
  .description('Change the server\'s settings; the others keep their value')
  .argument('<backend-id>').argument('<ip>')
  .option('--weight <0-256>', 'share of new sessions (0: none)')
  .option('--state <state>', 'ready, drain (no new sessions but sticky ones) or maintenance (no traffic)')
  .option('--slow-start <duration>', 'ramp-up after the server comes back, e.g. 30s; off to remove (takes one seamless reload)'))
  .action(async (backendId: string, ip: string, o: ServerCliOptions & ServerChange) => { print(await setServer(backendId, ip, o, o)); });

program.parseAsync().catch((err: Error) => {
  process.stderr.write(`fulcrum: ${err.message}\n`);
  process.exit(1);
});
