// Schema migrations for the SQLite store, applied in order; `user_version` records how many have run.
// Objects are stored as JSON documents of the domain types, with the columns that queries filter, sort or join on.

export const MIGRATIONS: string[] = [
  `CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE lbs (
     id TEXT PRIMARY KEY, zone TEXT NOT NULL, project_id TEXT NOT NULL, organization_id TEXT NOT NULL,
     name TEXT NOT NULL, created_at TEXT NOT NULL, doc TEXT NOT NULL);
   CREATE INDEX lbs_zone ON lbs(zone, created_at);
   CREATE TABLE ips (
     id TEXT PRIMARY KEY, zone TEXT NOT NULL, project_id TEXT NOT NULL, organization_id TEXT NOT NULL,
     address TEXT NOT NULL UNIQUE, lb_id TEXT REFERENCES lbs(id), created_at TEXT NOT NULL, doc TEXT NOT NULL);
   CREATE INDEX ips_lb ON ips(lb_id);
   CREATE TABLE backends (
     id TEXT PRIMARY KEY, lb_id TEXT NOT NULL REFERENCES lbs(id), name TEXT NOT NULL, created_at TEXT NOT NULL,
     doc TEXT NOT NULL);
   CREATE INDEX backends_lb ON backends(lb_id, created_at);
   CREATE TABLE frontends (
     id TEXT PRIMARY KEY, lb_id TEXT NOT NULL REFERENCES lbs(id), backend_id TEXT NOT NULL REFERENCES backends(id),
     inbound_port INTEGER NOT NULL, name TEXT NOT NULL, created_at TEXT NOT NULL, doc TEXT NOT NULL,
     UNIQUE (lb_id, inbound_port));
   CREATE INDEX frontends_backend ON frontends(backend_id);`,
  // Project-scoped API keys (the admin key stays a setting). Only the secret's hash is stored.
  `CREATE TABLE api_keys (
     id TEXT PRIMARY KEY, access_key TEXT NOT NULL UNIQUE, secret_hash TEXT NOT NULL UNIQUE, project_id TEXT NOT NULL,
     created_at TEXT NOT NULL, revoked_at TEXT, doc TEXT NOT NULL);`,
  // Certificates: the metadata only; the PEM (with the private key) is a 0600 file beside (certificate-files.ts).
  `CREATE TABLE certificates (
     id TEXT PRIMARY KEY, lb_id TEXT NOT NULL REFERENCES lbs(id), name TEXT NOT NULL, created_at TEXT NOT NULL,
     doc TEXT NOT NULL);
   CREATE INDEX certificates_lb ON certificates(lb_id, created_at);`,
  // Routes and ACLs. zone and project_id are the LB's, copied so that GET /routes (zone-wide) filters without a join;
  // a frontend's routes and ACLs go with it.
  `CREATE TABLE routes (
     id TEXT PRIMARY KEY, lb_id TEXT NOT NULL REFERENCES lbs(id), zone TEXT NOT NULL, project_id TEXT NOT NULL,
     frontend_id TEXT NOT NULL REFERENCES frontends(id) ON DELETE CASCADE, backend_id TEXT NOT NULL REFERENCES backends(id),
     name TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL, doc TEXT NOT NULL);
   CREATE INDEX routes_frontend ON routes(frontend_id, created_at);
   CREATE INDEX routes_backend ON routes(backend_id);
   CREATE INDEX routes_lb ON routes(lb_id);
   CREATE INDEX routes_zone ON routes(zone, created_at);
   CREATE TABLE acls (
     id TEXT PRIMARY KEY, lb_id TEXT NOT NULL REFERENCES lbs(id),
     frontend_id TEXT NOT NULL REFERENCES frontends(id) ON DELETE CASCADE, name TEXT NOT NULL, created_at TEXT NOT NULL,
     doc TEXT NOT NULL);
   CREATE INDEX acls_frontend ON acls(frontend_id, created_at);`,
];
