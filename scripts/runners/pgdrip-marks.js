'use strict';
// pgdrip-marks.js - the client side of pgdrip's test endpoint, shared by
// the mocha root hooks and the jest setup file: one connection per
// process to $PGDRIP_TESTS, one line per boundary ("start NAME",
// "end NAME"), each waiting for pgdrip's "ok" (pgdrip has sampled the
// server by then).  Outside pgdrip (PGDRIP_TESTS unset) it does nothing;
// if pgdrip goes away the suite goes on.

const net = require('net');

const LINE_MAX = 4000;
const TIMEOUT_MS = 60000;

let sock = null;
let owner = 0;
let broken = false;
let input = '';
const waiting = [];

function settleAll() {
	while (waiting.length > 0) {
		waiting.shift()();
	}
}

// The socket keeps the process alive only while an answer is awaited,
// so a suite ends as it would without pgdrip.
function updateRef() {
	if (sock !== null) {
		if (waiting.length > 0) {
			sock.ref();
		} else {
			sock.unref();
		}
	}
}

function connect() {
	if (sock !== null && owner === process.pid) {
		return sock;
	}
	owner = process.pid;
	input = '';
	sock = net.createConnection(process.env.PGDRIP_TESTS);
	sock.setEncoding('utf8');
	sock.on('data', (chunk) => {
		input += chunk;
		let nl;
		while ((nl = input.indexOf('\n')) >= 0) {
			input = input.slice(nl + 1);
			const done = waiting.shift();
			if (done) {
				done();
			}
		}
		updateRef();
	});
	const fail = () => {
		broken = true;
		settleAll();
	};
	sock.on('error', fail);
	sock.on('close', fail);
	return sock;
}

// The name as one line of at most LINE_MAX bytes.
function oneLine(name) {
	let text = String(name).replace(/[\r\n]+/g, ' ') || '?';
	while (Buffer.byteLength(text, 'utf8') > LINE_MAX) {
		text = text.slice(0, text.length - 1);
	}
	return text;
}

// mark(verb, name): resolves once pgdrip has answered (or given up).
function mark(verb, name) {
	if (!process.env.PGDRIP_TESTS || broken) {
		return Promise.resolve();
	}
	return new Promise((resolve) => {
		const timer = setTimeout(() => {
			const i = waiting.indexOf(finish);
			if (i >= 0) {
				waiting.splice(i, 1);
			}
			broken = true;
			updateRef();
			resolve();
		}, TIMEOUT_MS);
		timer.unref();
		function finish() {
			clearTimeout(timer);
			resolve();
		}
		waiting.push(finish);
		connect().write(`${verb} ${oneLine(name)}\n`);
		updateRef();
	});
}

// close(): the connection ends (jest: each test file loads this module
// anew, so each closes its own when it is done).
function close() {
	if (sock !== null && owner === process.pid) {
		sock.removeAllListeners('close');
		sock.end();
	}
	sock = null;
}

module.exports = { mark, close };
