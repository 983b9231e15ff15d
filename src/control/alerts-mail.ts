// Email alerts through the operator's SMTP relay (`--smtp-url`, `--smtp-from`), with nodemailer.
import nodemailer from 'nodemailer';

export interface SmtpConfig {
  url: string;
  from: string;
}

export interface MailSender {
  send(to: string, subject: string, text: string): Promise<void>;
}

/** One pooled transport; each send is bounded so that a stuck relay only delays that delivery's retries. */
export function smtpSender(cfg: SmtpConfig): MailSender {
  const transport = nodemailer.createTransport(cfg.url, {
    connectionTimeout: 5000, greetingTimeout: 5000, socketTimeout: 10_000,
  } as never);
  return {
    async send(to, subject, text) {
      await transport.sendMail({ from: cfg.from, to, subject, text });
    },
  };
}
