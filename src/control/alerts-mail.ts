// Email alerts through the operator's SMTP relay (`--smtp-url`, `--smtp-from`), with nodemailer.
import nodemailer from 'nodemailer';

export interface SmtpConfig {
  url: string;
  from: string;
}

export interface MailSender {
  send(to: string, subject: string, text: string): Promise<void>;
}

/** One transport for the relay; each connection is bounded so that a stuck relay only delays that delivery's retries. */
export function smtpSender(cfg: SmtpConfig): MailSender {
  const u = new URL(cfg.url);
  const secure = u.protocol === 'smtps:';
  const transport = nodemailer.createTransport({
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(u.port) || (secure ? 465 : 25), secure,
    auth: u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : undefined,
    connectionTimeout: 5000, greetingTimeout: 5000, socketTimeout: 10_000,
  });
  return {
    async send(to, subject, text) {
      await transport.sendMail({ from: cfg.from, to, subject, text });
    },
  };
}
