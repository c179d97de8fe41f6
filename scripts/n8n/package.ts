/**
 * Installs this repository into an n8n user folder the way a user installs a
 * community package: build, `npm pack`, then in `<userFolder>/.n8n/nodes`
 * `npm install <tgz> --omit=peer --ignore-scripts`. n8n then loads the nodes
 * as `n8n-nodes-rebound-khaos.<nodeName>`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run, type Log } from './runtime';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export interface InstallPackageOptions {
	/** Skip `npm run build` and pack the current dist/ as it is. */
	skipBuild?: boolean;
	/** Reuse a tarball already made (e.g. by an earlier install in the same run). */
	tarball?: string;
	log?: Log;
	/** Bound per npm step (ms). */
	timeoutMs?: number;
	/**
	 * Development aid, off by default: keep only these nodes (class names, e.g.
	 * `ReturnsMapping`) in the packed package.json `n8n.nodes` (credentials are
	 * kept unless `onlyCredentials` is given). n8n refuses the WHOLE package when
	 * one listed node fails to load, so this lets one node be tested end to end
	 * while another is half-written. Never use it to make a release test pass.
	 */
	onlyNodes?: string[];
	onlyCredentials?: string[];
}

export interface InstalledPackage {
	name: string;
	version: string;
	tarball: string;
	/** `<userFolder>/.n8n/nodes/node_modules/<name>` */
	installedDir: string;
	/** The node type prefix n8n gives the package's nodes: `<name>.` */
	typePrefix: string;
	/** Full node type names from package.json `n8n.nodes` (e.g. `n8n-nodes-rebound-khaos.returnsMapping`), read from the installed modules. */
	nodeTypes: string[];
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const quietNpm = {
	npm_config_fund: 'false',
	npm_config_audit: 'false',
	npm_config_update_notifier: 'false',
	npm_config_loglevel: 'warn',
};

/** Builds (unless skipped) and packs the repo into a temp folder; returns the tarball path. */
export async function packRepo(options: InstallPackageOptions = {}): Promise<string> {
	const log: Log = options.log ?? ((l) => console.log(l));
	const timeoutMs = options.timeoutMs ?? 5 * 60_000;
	const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rk-pack-'));
	const logFile = path.join(workDir, 'pack.log');
	const env = { ...process.env, ...quietNpm };
	if (!options.skipBuild) {
		const t = Date.now();
		log('[package] npm run build …');
		await run(npm, ['run', 'build'], { cwd: REPO_ROOT, env, timeoutMs, logFile });
		log(`[package] built in ${((Date.now() - t) / 1000).toFixed(0)} s`);
	}
	await run(npm, ['pack', '--ignore-scripts', '--pack-destination', workDir], {
		cwd: REPO_ROOT,
		env,
		timeoutMs,
		logFile,
	});
	const tgz = fs.readdirSync(workDir).filter((f) => f.endsWith('.tgz'));
	if (tgz.length !== 1)
		throw new Error(`[package] npm pack produced ${tgz.length} tarballs in ${workDir}`);
	const tarball = path.join(workDir, tgz[0]);
	if (!options.onlyNodes && !options.onlyCredentials) return tarball;
	return restrictTarball(tarball, options, { env, timeoutMs, logFile, log });
}

/** Re-packs the tarball with package.json `n8n.nodes` / `n8n.credentials` narrowed (see onlyNodes). */
async function restrictTarball(
	tarball: string,
	options: InstallPackageOptions,
	ctx: { env: NodeJS.ProcessEnv; timeoutMs: number; logFile: string; log: Log },
): Promise<string> {
	const workDir = path.dirname(tarball);
	const extractDir = path.join(workDir, 'restricted');
	fs.mkdirSync(extractDir);
	await run('tar', ['-xzf', tarball, '-C', extractDir], {
		cwd: workDir,
		env: ctx.env,
		timeoutMs: ctx.timeoutMs,
		logFile: ctx.logFile,
	});
	const pkgDir = path.join(extractDir, 'package');
	const pjPath = path.join(pkgDir, 'package.json');
	const pj = JSON.parse(fs.readFileSync(pjPath, 'utf8')) as {
		n8n: { nodes: string[]; credentials?: string[] };
	};
	const keep = (list: string[] | undefined, names: string[] | undefined, suffix: string) => {
		if (!names) return list;
		const kept = (list ?? []).filter((rel) =>
			names.includes(path.basename(rel).replace(suffix, '')),
		);
		const unknown = names.filter(
			(n) => !kept.some((rel) => path.basename(rel).replace(suffix, '') === n),
		);
		if (unknown.length)
			throw new Error(`[package] not in package.json n8n section: ${unknown.join(', ')}`);
		return kept;
	};
	pj.n8n.nodes = keep(pj.n8n.nodes, options.onlyNodes, '.node.js') ?? [];
	pj.n8n.credentials = keep(pj.n8n.credentials, options.onlyCredentials, '.credentials.js');
	fs.writeFileSync(pjPath, JSON.stringify(pj, null, 2));
	fs.rmSync(tarball);
	await run(npm, ['pack', '--ignore-scripts', '--pack-destination', workDir], {
		cwd: pkgDir,
		env: ctx.env,
		timeoutMs: ctx.timeoutMs,
		logFile: ctx.logFile,
	});
	fs.rmSync(extractDir, { recursive: true, force: true });
	ctx.log(
		`[package] RESTRICTED package (development aid): nodes ${pj.n8n.nodes.map((n) => path.basename(n)).join(', ')}`,
	);
	return tarball;
}

/** Installs the packed repo into `<userFolder>/.n8n/nodes` exactly as a community package. */
export async function installPackage(
	userFolder: string,
	options: InstallPackageOptions = {},
): Promise<InstalledPackage> {
	const log: Log = options.log ?? ((l) => console.log(l));
	const timeoutMs = options.timeoutMs ?? 5 * 60_000;
	const tarball = options.tarball ?? (await packRepo(options));
	const nodesDir = path.join(userFolder, '.n8n', 'nodes');
	fs.mkdirSync(nodesDir, { recursive: true });
	const pj = path.join(nodesDir, 'package.json');
	if (!fs.existsSync(pj))
		fs.writeFileSync(
			pj,
			JSON.stringify({ name: 'installed-nodes', private: true, dependencies: {} }, null, 2),
		);
	const t = Date.now();
	await run(npm, ['install', tarball, '--omit=peer', '--ignore-scripts'], {
		cwd: nodesDir,
		env: { ...process.env, ...quietNpm },
		timeoutMs,
		logFile: path.join(userFolder, 'package-install.log'),
	});
	const { name } = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
		name: string;
	};
	const installedDir = path.join(nodesDir, 'node_modules', name);
	if (!fs.existsSync(path.join(installedDir, 'package.json')))
		throw new Error(`[package] ${name} not found in ${installedDir} after npm install`);
	// the installed package.json, which is what n8n reads
	const pkg = JSON.parse(fs.readFileSync(path.join(installedDir, 'package.json'), 'utf8')) as {
		name: string;
		version: string;
		n8n: { nodes: string[] };
	};
	const nodeTypes = pkg.n8n.nodes.map((rel) => {
		const file = path.join(installedDir, rel);
		if (!fs.existsSync(file))
			throw new Error(
				`[package] ${rel} is listed in package.json but missing from the installed package`,
			);
		// read the node's internal name from the compiled description without loading n8n-workflow
		const src = fs.readFileSync(file, 'utf8');
		const m = /description\s*=\s*\{[\s\S]*?\bname:\s*['"]([A-Za-z0-9]+)['"]/.exec(src);
		return `${pkg.name}.${
			m
				? m[1]
				: path
						.basename(rel)
						.replace(/\.node\.js$/, '')
						.replace(/^./, (c) => c.toLowerCase())
		}`;
	});
	log(
		`[package] installed ${path.basename(tarball)} into ${nodesDir} in ${((Date.now() - t) / 1000).toFixed(0)} s`,
	);
	return {
		name: pkg.name,
		version: pkg.version,
		tarball,
		installedDir,
		typePrefix: `${pkg.name}.`,
		nodeTypes,
	};
}
