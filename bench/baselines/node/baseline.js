// SPDX-License-Identifier: Apache-2.0
//
// Baseline 2: the same edits through balena-config-json and balena-image-fs,
// the npm packages `balena os configure` and `balena preload` run.
//
//   node baseline.js info IMG
//   node baseline.js get IMG KEY
//   node baseline.js configure IMG HOSTNAME KEY1.pub KEY2.pub RULES SSID PSK LOGO.png
//   node baseline.js splash IMG LOGO.png
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { promisify } = require('util');
const configJson = require('balena-config-json');
const imagefs = require('balena-image-fs');

const [cmd, img, ...args] = process.argv.slice(2);

function profile(ssid, psk) {
	return `[connection]\nid=resin-wifi\nuuid=${crypto.randomUUID()}\ntype=wifi\n\n` +
		`[wifi]\nmode=infrastructure\nssid=${ssid}\n\n` +
		`[wifi-security]\nauth-alg=open\nkey-mgmt=wpa-psk\npsk=${psk}\n\n` +
		`[ipv4]\nmethod=auto\n\n[ipv6]\naddr-gen-mode=stable-privacy\nmethod=auto\n\n[proxy]\n`;
}

async function main() {
	const boot = await configJson.getBootPartition(img);
	switch (cmd) {
	case 'info': {
		const config = await configJson.read(img);
		const [dt, osr] = await imagefs.interact(img, boot, async (bfs) => {
			const read = promisify(bfs.readFile);
			return [JSON.parse((await read('/device-type.json')).toString()),
				(await read('/os-release')).toString()];
		});
		const version = /^VERSION="?([^"\n]*)/m.exec(osr);
		console.log(`Device type: ${dt.slug} (${dt.name}, ${dt.arch})`);
		console.log(`OS version: ${version ? version[1] : ''}`);
		console.log(`Development mode: ${config.developmentMode || false}`);
		break;
	}
	case 'get': {
		const config = await configJson.read(img);
		console.log(config[args[0]]);
		break;
	}
	case 'configure': {
		const [host, key1, key2, rules, ssid, psk, logo] = args;
		const config = await configJson.read(img);
		config.hostname = host;
		config.persistentLogging = true;
		config.country = 'DE';
		config.ntpServers = 'pool.ntp.org time.google.com';
		config.dnsServers = '1.1.1.1 8.8.8.8';
		config.os = config.os || {};
		config.os.sshKeys = [key1, key2].map((k) => fs.readFileSync(k, 'utf8').trimEnd());
		config.os.udevRules = config.os.udevRules || {};
		config.os.udevRules[path.basename(rules, '.rules')] =
			fs.readFileSync(rules, 'utf8').trimEnd();
		await configJson.write(img, undefined, config);
		await imagefs.interact(img, boot, async (bfs) => {
			const write = promisify(bfs.writeFile);
			await write('/system-connections/resin-wifi', profile(ssid, psk));
			await write('/splash/balena-logo.png', fs.readFileSync(logo));
		});
		break;
	}
	case 'splash':
		await imagefs.interact(img, boot, async (bfs) => {
			await promisify(bfs.writeFile)('/splash/balena-logo.png', fs.readFileSync(args[0]));
		});
		break;
	default:
		throw new Error('usage: baseline.js info|get|configure|splash IMG ...');
	}
}

main().catch((e) => {
	console.error(e.message);
	process.exit(1);
});
