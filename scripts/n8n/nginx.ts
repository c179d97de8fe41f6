/**
 * nginx in front of several `n8n webhook` processes, as production spreads `/webhook/` over
 * them: Debian's nginx on a free 127.0.0.1 port, its own config, pid and temp paths in a
 * temporary folder, not daemonised (the harness owns the process).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort } from './instance';
import type { Log } from './runtime';
import { findBinary, spawnServer, type ServerProcess } from './server';

export interface Nginx {
	port: number;
	url: string;
	stop(): Promise<void>;
	describe(): string;
}

/** The config: least_conn over the upstreams, bodies passed as they come, long reads (the batch window holds answers). */
export function nginxConfig(
	folder: string,
	port: number,
	upstreamPorts: number[],
	runAsRoot: boolean,
): string {
	const servers = upstreamPorts.map((p) => `\t\tserver 127.0.0.1:${p} max_fails=0;`).join('\n');
	return `${runAsRoot ? 'user root;\n' : ''}worker_processes 1;
daemon off;
pid ${path.join(folder, 'nginx.pid')};
error_log ${path.join(folder, 'error.log')} warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path ${path.join(folder, 'body')};
	proxy_temp_path ${path.join(folder, 'proxy')};
	fastcgi_temp_path ${path.join(folder, 'fastcgi')};
	uwsgi_temp_path ${path.join(folder, 'uwsgi')};
	scgi_temp_path ${path.join(folder, 'scgi')};
	client_max_body_size 16m;
	upstream n8n_webhooks {
		least_conn;
${servers}
		keepalive 32;
	}
	server {
		listen 127.0.0.1:${port};
		location /webhook/ {
			proxy_pass http://n8n_webhooks;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_set_header Host $host;
			proxy_set_header X-Forwarded-For $remote_addr;
			proxy_request_buffering off;
			proxy_buffering off;
			proxy_read_timeout 180s;
			proxy_next_upstream off;
		}
		location / { return 404; }
	}
}
`;
}

export async function startNginx(opts: {
	folder: string;
	upstreamPorts: number[];
	log: Log;
}): Promise<Nginx> {
	const bin = findBinary(['nginx', '/usr/sbin/nginx'], 'nginx', 'nginx');
	fs.mkdirSync(opts.folder, { recursive: true });
	const port = await freePort();
	const conf = path.join(opts.folder, 'nginx.conf');
	fs.writeFileSync(
		conf,
		nginxConfig(opts.folder, port, opts.upstreamPorts, process.getuid?.() === 0),
	);
	const server: ServerProcess = await spawnServer({
		name: 'nginx',
		command: bin,
		args: ['-c', conf, '-p', opts.folder, '-e', path.join(opts.folder, 'error.log')],
		port,
		cwd: opts.folder,
		logFile: path.join(opts.folder, 'nginx.out'),
		log: opts.log,
	});
	return {
		port,
		url: `http://127.0.0.1:${port}`,
		stop: () => server.stop(),
		describe: () =>
			`nginx (${bin}) on 127.0.0.1:${port} over ${opts.upstreamPorts.length} webhook processes`,
	};
}
