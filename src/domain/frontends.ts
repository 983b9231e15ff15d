// Frontend domain model.

export interface Frontend {
  id: string;
  lbId: string;
  backendId: string;
  name: string;
  inboundPort: number;
  timeoutClientMs: number | null;
  certificateIds: string[];
  enableHttp3: boolean;
  /** New connections per second; null when unlimited (0 on the wire). */
  connectionRateLimit: number | null;
  enableAccessLogs: boolean;
  createdAt: string;
  updatedAt: string;
}

/** Default client inactivity timeout rendered when the frontend sets none (OAS default). */
export const DEFAULT_TIMEOUT_CLIENT_MS = 300_000;
