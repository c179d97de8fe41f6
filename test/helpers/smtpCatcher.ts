/**
 * A minimal SMTP server on 127.0.0.1 for tests: it speaks just enough SMTP (greeting, EHLO/HELO,
 * MAIL, RCPT, DATA, RSET, NOOP, QUIT; no TLS, no auth) for n8n's Send Email node to deliver to it,
 * and keeps every message. `hang = true` makes it accept connections and never greet, so a sender
 * waits until its own timeout: a way to hold a workflow inside its alert step.
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
	close(): Promise<void>;
}

export async function startSmtpCatcher(): Promise<SmtpCatcher> {
	const sockets = new Set<net.Socket>();
	const catcher: SmtpCatcher = { port: 0, messages: [], hang: false, close: async () => undefined };
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
					current.to.push(line.replace(/^RCPT TO:\s*/i, ''));
					reply('250 ok');
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
