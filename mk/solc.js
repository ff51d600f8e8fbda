// Compiles contracts/DaiEscrow.sol with the solc package (standard JSON,
// pinned settings) and writes DaiEscrow.bin (creation bytecode, hex) and
// DaiEscrow.abi (JSON) into the directory given, contracts/ by default, and
// the bytecode as C source (escrow_code.c) that the library embeds, into the
// second directory given, src/lib/ by default.
// Usage: node mk/solc.js SOLC-MODULE-DIR [OUT-DIR [C-OUT-DIR]]
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require(path.resolve(process.argv[2], 'solc'));
const out = process.argv[3] || 'contracts';
const cout = process.argv[4] || 'src/lib';
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
const hex = c.evm.bytecode.object;
let csrc = '/* escrow_code.c - the creation bytecode of contracts/DaiEscrow.sol, made by\n' +
	' * make contracts (mk/solc.js) from contracts/DaiEscrow.bin: do not edit. */\n' +
	'/* clang-format off */\n' +
	'#include "escrow_code.h"\n\nconst char escrow_bytecode_hex[] =\n';
for (let i = 0; i < hex.length; i += 80)
	csrc += '    "' + hex.slice(i, i + 80) + '"' + (i + 80 >= hex.length ? ';\n' : '\n');
fs.writeFileSync(path.join(cout, 'escrow_code.c'), csrc);
