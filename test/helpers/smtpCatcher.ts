/**
 * A minimal SMTP server on 127.0.0.1 for tests: it speaks just enough SMTP (greeting, EHLO/HELO,
 * MAIL, RCPT, DATA, RSET, NOOP, QUIT; no TLS, no auth) for n8n's Send Email node to deliver to it,
 * and keeps every message. `hang = true` makes it accept connections and never greet, so a sender
 * waits until its own timeout: a way to hold a workflow inside its alert step. `refuse = '<text>'`
 * makes it answer every recipient with `550 <text>` (the sender's "all recipients were rejected").
 * parseMime() reads a caught message (headers, parts, decoded bodies) for assertions.
 */
import * as net from 'node:net';

export interface CaughtMessage {
	from: string;
	to: string[];
	data: string;
}

export interface SmtpCatcher {
	port: number;
	messages: CaughtMessage[];
	hang: boolean;
	/** When set, every RCPT is answered `550 <refuse>`. */
	refuse: string | null;
	close(): Promise<void>;
}

export async function startSmtpCatcher(): Promise<SmtpCatcher> {
	const sockets = new Set<net.Socket>();
	const catcher: SmtpCatcher = {
		port: 0,
		messages: [],
		hang: false,
		refuse: null,
		close: async () => undefined,
	};
	const server = net.createServer((socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
		socket.on('error', () => undefined);
		if (catcher.hang) return;
		let buffer = '';
		let inData = false;
		let current: CaughtMessage = { from: '', to: [], data: '' };
		const reply = (line: string) => socket.write(`${line}\r\n`);
		reply('220 127.0.0.1 test SMTP catcher');
		socket.on('data', (chunk) => {
			buffer += chunk.toString('utf8');
			let at: number;
			while ((at = buffer.indexOf('\r\n')) >= 0) {
				const line = buffer.slice(0, at);
				buffer = buffer.slice(at + 2);
				if (inData) {
					if (line === '.') {
						inData = false;
						catcher.messages.push(current);
						current = { from: '', to: [], data: '' };
						reply('250 queued');
					} else current.data += `${line.startsWith('..') ? line.slice(1) : line}\n`;
					continue;
				}
				const verb = line.slice(0, 4).toUpperCase();
				if (verb === 'EHLO') socket.write('250-127.0.0.1\r\n250 8BITMIME\r\n');
				else if (verb === 'HELO') reply('250 127.0.0.1');
				else if (verb === 'MAIL') {
					current.from = line.replace(/^MAIL FROM:\s*/i, '');
					reply('250 ok');
				} else if (verb === 'RCPT') {
					if (catcher.refuse !== null) reply(`550 ${catcher.refuse}`);
					else {
						current.to.push(line.replace(/^RCPT TO:\s*/i, ''));
						reply('250 ok');
					}
				} else if (verb === 'DATA') {
					inData = true;
					reply('354 end with <CRLF>.<CRLF>');
				} else if (verb === 'QUIT') {
					reply('221 bye');
					socket.end();
				} else if (verb === 'RSET' || verb === 'NOOP') reply('250 ok');
				else reply('502 not implemented');
			}
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	catcher.port = (server.address() as net.AddressInfo).port;
	catcher.close = () =>
		new Promise<void>((resolve) => {
			for (const s of sockets) s.destroy();
			server.close(() => resolve());
		});
	return catcher;
}

// ------------------------------------------------------------------ reading a caught message

export interface MimePart {
	/** Header names in lower case, folded lines joined, encoded words (RFC 2047) decoded. */
	headers: Record<string, string>;
	/** The body after its Content-Transfer-Encoding (base64, quoted-printable) is undone. */
	body: Buffer;
	/** The parts of a multipart body, in order (empty otherwise). */
	parts: MimePart[];
}

/** RFC 2047 encoded words (`=?UTF-8?Q?…?=`, `=?UTF-8?B?…?=`) decoded; the space between two of them dropped. */
export function decodeWords(value: string): string {
	return value
		.replace(/(=\?[^?]+\?[QqBb]\?[^?]*\?=)\s+(?==\?)/g, '$1')
		.replace(
			/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g,
			(_m, _charset: string, enc: string, text: string) =>
				enc.toUpperCase() === 'B'
					? Buffer.from(text, 'base64').toString('utf8')
					: decodeQuotedPrintable(text.replace(/_/g, ' ')).toString('utf8'),
		);
}

function decodeQuotedPrintable(text: string): Buffer {
	const joined = text.replace(/=\r?\n/g, '');
	const bytes: number[] = [];
	for (let i = 0; i < joined.length; i++) {
		const hex = joined.slice(i + 1, i + 3);
		if (joined[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
			bytes.push(parseInt(hex, 16));
			i += 2;
		} else bytes.push(...Buffer.from(joined[i], 'utf8'));
	}
	return Buffer.from(bytes);
}

/** A header's parameter (`boundary`, `filename`, `name`), quoted or not. */
export function headerParam(value: string | undefined, name: string): string | null {
	const m = new RegExp(`(?:^|;)\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]*))`, 'i').exec(
		value ?? '',
	);
	return m ? (m[1] ?? m[2]) : null;
}

/** A caught message (CaughtMessage.data) as headers and parts, bodies decoded. */
export function parseMime(raw: string): MimePart {
	const text = raw.replace(/\r\n/g, '\n');
	const split = text.indexOf('\n\n');
	const head = split < 0 ? text : text.slice(0, split);
	const rest = split < 0 ? '' : text.slice(split + 2);
	const headers: Record<string, string> = {};
	for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
		const at = line.indexOf(':');
		if (at > 0)
			headers[line.slice(0, at).trim().toLowerCase()] = decodeWords(line.slice(at + 1).trim());
	}
	const type = headers['content-type'] ?? 'text/plain';
	const boundary = /^multipart\//i.test(type) ? headerParam(type, 'boundary') : null;
	if (boundary) {
		const parts = rest
			.split(new RegExp(`^--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:--)?\\s*$`, 'm'))
			.slice(1, -1)
			.map((p) => parseMime(p.replace(/^\n/, '').replace(/\n$/, '')));
		return { headers, body: Buffer.alloc(0), parts };
	}
	const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
	const body =
		encoding === 'base64'
			? Buffer.from(rest.replace(/\s+/g, ''), 'base64')
			: encoding === 'quoted-printable'
				? decodeQuotedPrintable(rest)
				: Buffer.from(rest, 'utf8');
	return { headers, body, parts: [] };
}

/** Every leaf part of a message (depth first). */
export function mimeLeaves(part: MimePart): MimePart[] {
	return part.parts.length ? part.parts.flatMap(mimeLeaves) : [part];
}
