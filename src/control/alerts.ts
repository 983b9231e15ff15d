// Alerts: events of the feed (control/events.ts) that matter to an LB's subscriber — a server going down or up, the
// instance going to `error` and back — grouped per LB for GROUP_MS (a whole backend going down is one message), then
// delivered by webhook (POST, JSON) or mail, retried with backoff. Deliveries run beside everything else: a slow or
// failing receiver never blocks the API, the reconciler or the feed.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import type { Subscriber } from '../domain/subscribers.js';
import type { MailSender } from './alerts-mail.js';
import type { EventFeed, FeedEvent } from './events.js';

export interface AlertOptions {
  /** How long events of one LB are gathered into one message. */
  groupMs?: number;
  /** Waits before each retry (the first attempt is immediate). */
  retryDelaysMs?: number[];
  /** Bound of one webhook request. */
  requestTimeoutMs?: number;
}

const DEFAULTS: Required<AlertOptions> = { groupMs: 2000, retryDelaysMs: [1000, 2000, 4000, 8000, 16_000], requestTimeoutMs: 5000 };

/** One change as a webhook body shows it. `state`/`previous_state`: backend-stats words for servers, instance statuses else. */
export interface AlertItem {
  backend_id: string | null;
  server_ip: string | null;
  state: string;
  previous_state: string;
  reason: string;
  at: string;
}

/** The webhook body: the first change at the top level, and every change of the group (it included) in `events`. */
export type AlertBody = { lb_id: string; lb_name: string } & AlertItem & { events: AlertItem[] };

/** Only what a subscriber wants to hear: server transitions, and an instance entering or leaving `error`. */
function toItem(e: FeedEvent): AlertItem | null {
  if (e.kind === 'server') {
    return { backend_id: e.backendId, server_ip: e.serverIp, state: e.state, previous_state: e.previousState,
      reason: `server ${e.serverIp} is ${e.state} (last health check: ${e.lastHealthCheckStatus})`, at: e.at };
  }
  if (e.state !== 'error' && !(e.previousState === 'error' && e.state === 'ready')) return null;
  return { backend_id: null, server_ip: null, state: e.state, previous_state: e.previousState,
    reason: e.reason ?? (e.state === 'ready' ? 'the load balancer instance recovered' : 'the load balancer instance failed'), at: e.at };
}

function mailText(b: AlertBody): { subject: string; text: string } {
  const lines = b.events.map((i) => `${i.at}  ${i.server_ip ? `backend ${i.backend_id} server ${i.server_ip}` : 'instance'}: ` +
    `${i.previous_state} -> ${i.state}. ${i.reason}`);
  return {
    subject: `[Fulcrum] load balancer ${b.lb_name}: ${b.events.length} change${b.events.length > 1 ? 's' : ''} (${b.state})`,
    text: `Load balancer ${b.lb_name} (${b.lb_id})\n\n${lines.join('\n')}\n`,
  };
}

export class Alerts {
  private readonly opts: Required<AlertOptions>;
  private readonly groups = new Map<string, { items: AlertItem[]; timer: NodeJS.Timeout }>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly unsubscribe: () => void;
  /** Aborted by close(): ends retry waits and requests in flight. */
  private readonly stopping = new AbortController();

  constructor(feed: EventFeed, private readonly store: Store, private readonly mail: MailSender | null,
    private readonly log: Logger, opts: AlertOptions = {}) {
    this.opts = { ...DEFAULTS, ...opts };
    this.unsubscribe = feed.subscribe((e) => this.onEvent(e));
  }

  /** Stops listening and drops what is not sent yet. */
  async close(): Promise<void> {
    this.stopping.abort();
    this.unsubscribe();
    for (const g of this.groups.values()) clearTimeout(g.timer);
    this.groups.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  private onEvent(e: FeedEvent): void {
    const item = toItem(e);
    if (!item || this.stopping.signal.aborted) return;
    // Only what happens while the LB has a subscriber: a change from before it subscribed is no news to it.
    void this.store.getLb(e.lbId).then((lb) => {
      if (lb?.subscriberId && !this.stopping.signal.aborted) this.group(e.lbId, item);
    }, () => undefined);
  }

  private group(lbId: string, item: AlertItem): void {
    const g = this.groups.get(lbId);
    if (g) {
      g.items.push(item);
      return;
    }
    const timer = setTimeout(() => this.flush(lbId), this.opts.groupMs);
    timer.unref();
    this.groups.set(lbId, { items: [item], timer });
  }

  private flush(lbId: string): void {
    const g = this.groups.get(lbId);
    this.groups.delete(lbId);
    if (!g) return;
    const run = this.deliver(lbId, g.items).catch((err) => this.log.warn({ err, lbId }, 'alert not delivered'));
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
  }

  private async deliver(lbId: string, items: AlertItem[]): Promise<void> {
    const lb = await this.store.getLb(lbId);
    const subscriber = lb?.subscriberId ? await this.store.getSubscriber(lb.subscriberId) : null;
    if (!lb || !subscriber) return;
    const body: AlertBody = { lb_id: lb.id, lb_name: lb.name, ...items[0], events: items };
    const delays = [0, ...this.opts.retryDelaysMs];
    for (let attempt = 0; attempt < delays.length; attempt++) {
      if (delays[attempt]) await sleep(delays[attempt], undefined, { signal: this.stopping.signal, ref: false }).catch(() => undefined);
      if (this.stopping.signal.aborted) return;
      try {
        await this.send(subscriber, body);
        return;
      } catch (err) {
        this.log.warn({ lbId, subscriber: subscriber.id, attempt: attempt + 1, err: (err as Error).message }, 'alert delivery failed');
      }
    }
  }

  private async send(s: Subscriber, body: AlertBody): Promise<void> {
    if (s.webhookUri) {
      const r = await fetch(s.webhookUri, {
        method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'fulcrum-alerts' },
        body: JSON.stringify(body), signal: AbortSignal.any([AbortSignal.timeout(this.opts.requestTimeoutMs), this.stopping.signal]), redirect: 'error',
      });
      await r.body?.cancel();
      if (r.status < 200 || r.status > 299) throw new Error(`webhook answered ${r.status}`);
    } else if (s.email) {
      if (!this.mail) throw new Error('no SMTP relay configured');
      const m = mailText(body);
      await this.mail.send(s.email, m.subject, m.text);
    }
  }
}
