// Compiles contracts/DaiEscrow.sol with the solc package (standard JSON,
// pinned settings) and writes DaiEscrow.bin (creation bytecode, hex) and
// DaiEscrow.abi (JSON) into the directory given, contracts/ by default.
// Usage: node mk/solc.js SOLC-MODULE-DIR [OUT-DIR]
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require(path.resolve(process.argv[2], 'solc'));
const out = process.argv[3] || 'contracts';
const name = 'contracts/DaiEscrow.sol';
const input = {
	language: 'Solidity',
	sources: { [name]: { content: fs.readFileSync(name, 'utf8') } },
	settings: {
		optimizer: { enabled: true, runs: 200 },
		evmVersion: 'cancun',
		outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
	},
};
const res = JSON.parse(solc.compile(JSON.stringify(input)));
let failed = false;
for (const e of res.errors || []) {
	process.stderr.write(e.formattedMessage || e.message);
	if (e.severity === 'error') failed = true;
}
if (failed) process.exit(1);
const c = res.contracts[name].DaiEscrow;
fs.writeFileSync(path.join(out, 'DaiEscrow.bin'), c.evm.bytecode.object + '\n');
fs.writeFileSync(path.join(out, 'DaiEscrow.abi'), JSON.stringify(c.abi) + '\n');
