// SPDX-License-Identifier: ISC
pragma solidity 0.8.26;

/// @title DaiEscrow: settlement of dai inference jobs on an EVM chain.
/// @notice The rules of the embedded ledger, as a contract. A buyer escrows
/// a job's maximum price under the job id; the job's worker claims it with
/// the id of its receipt and a bond, which opens a challenge window; a
/// validator may challenge within the window with the id of a fraud
/// document and a bond; after the window, finalize pays the worker.
///
/// Recomputing a transformer layer on chain is not possible, so a challenge
/// is decided by referees fixed at deployment: at least `threshold` of them
/// sign (EIP-191 personal message) the outcome of `dai-prove check` on the
/// public fraud document, which anyone can rerun. A challenge that the
/// referees leave unresolved past the deadline times out in favour of the
/// worker, and the challenger gets its bond back.
///
/// Money only ever moves into `credit`; accounts take it out with withdraw
/// (no transfer happens inside a settlement step). Every job ends in state
/// Done exactly once, so nothing is paid twice.
contract DaiEscrow {
	enum State {
		None,
		Escrowed,
		Claimed,
		Challenged,
		Done
	}

	struct Job {
		address buyer;
		uint64 expiry; // the worker must claim before it; after it the buyer may refund
		State state;
		address worker;
		uint64 deadline; // end of the challenge window, then of the resolution
		address challenger;
		uint256 amount; // escrowed maximum price (wei)
		uint256 rate; // price per 1000 tokens (wei), from the job document
		uint256 price; // what the claimed tokens cost, at most amount
		bytes32 receipt; // id of the worker's receipt document
		bytes32 fraud; // id of the challenger's fraud document
	}

	address[] public referees;
	mapping(address => bool) public isReferee;
	uint256 public immutable threshold;
	uint256 public immutable window; // seconds a claim is open to challenge
	uint256 public immutable resolveTimeout; // seconds the referees have
	uint256 public immutable workerBond;
	uint256 public immutable challengeBond;

	mapping(bytes32 => Job) public jobs;
	mapping(address => uint256) public credit;

	event Escrowed(bytes32 indexed id, address indexed buyer, address indexed worker, uint256 amount);
	event Claimed(bytes32 indexed id, bytes32 receipt, uint64 tokensIn, uint64 tokensOut, uint256 price);
	event Challenged(bytes32 indexed id, address indexed challenger, bytes32 fraud);
	event Resolved(bytes32 indexed id, bool fraudProven);
	event Finalized(bytes32 indexed id, bool timedOut);
	event Refunded(bytes32 indexed id);
	event Withdrawn(address indexed account, uint256 amount);

	/// Half the secp256k1 group order: signatures with a higher s are refused.
	uint256 private constant HALF_N =
		0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

	constructor(
		address[] memory referees_,
		uint256 threshold_,
		uint256 window_,
		uint256 resolveTimeout_,
		uint256 workerBond_,
		uint256 challengeBond_
	) {
		require(threshold_ > 0 && threshold_ <= referees_.length, "threshold out of range");
		for (uint256 i = 0; i < referees_.length; i++) {
			address r = referees_[i];
			require(r != address(0) && !isReferee[r], "zero or repeated referee");
			isReferee[r] = true;
		}
		referees = referees_;
		threshold = threshold_;
		window = window_;
		resolveTimeout = resolveTimeout_;
		workerBond = workerBond_;
		challengeBond = challengeBond_;
	}

	function refereeCount() external view returns (uint256) {
		return referees.length;
	}

	/// The buyer locks msg.value (the job's maximum price) for job id, to be
	/// claimed by worker before expiry at rate wei per 1000 tokens.
	function escrow(bytes32 id, address worker, uint64 expiry, uint256 rate) external payable {
		Job storage j = jobs[id];
		require(j.state == State.None, "job id already used");
		require(msg.value > 0, "nothing escrowed");
		require(worker != address(0), "no worker");
		require(expiry > block.timestamp, "expiry in the past");
		j.buyer = msg.sender;
		j.worker = worker;
		j.expiry = expiry;
		j.amount = msg.value;
		j.rate = rate;
		j.state = State.Escrowed;
		emit Escrowed(id, msg.sender, worker, msg.value);
	}

	/// What tokens cost at rate per 1000 tokens, rounded up, at most cap
	/// (also when the product overflows): the embedded ledger's rule.
	function cost(uint256 rate, uint256 tokens, uint256 cap) public pure returns (uint256) {
		if (tokens != 0 && rate > type(uint256).max / tokens)
			return cap;
		uint256 product = rate * tokens;
		uint256 c = product / 1000 + (product % 1000 != 0 ? 1 : 0);
		return c < cap ? c : cap;
	}

	/// The worker claims the job for its receipt and the tokens it counts
	/// (prompt and generated), posting its bond.
	function claim(bytes32 id, bytes32 receipt, uint64 tokensIn, uint64 tokensOut) external payable {
		Job storage j = jobs[id];
		require(j.state == State.Escrowed, "job not open to a claim");
		require(msg.sender == j.worker, "not the job's worker");
		require(block.timestamp < j.expiry, "job expired");
		require(msg.value == workerBond, "wrong worker bond");
		require(receipt != bytes32(0), "no receipt id");
		uint256 price = cost(j.rate, uint256(tokensIn) + tokensOut, j.amount);
		j.receipt = receipt;
		j.price = price;
		j.deadline = uint64(block.timestamp + window);
		j.state = State.Claimed;
		emit Claimed(id, receipt, tokensIn, tokensOut, price);
	}

	/// Anyone challenges a claim within its window with a fraud document's id and a bond.
	function challenge(bytes32 id, bytes32 fraud) external payable {
		Job storage j = jobs[id];
		require(j.state == State.Claimed, "job not claimed");
		require(block.timestamp < j.deadline, "challenge window closed");
		require(msg.value == challengeBond, "wrong challenge bond");
		require(fraud != bytes32(0), "no fraud document id");
		j.challenger = msg.sender;
		j.fraud = fraud;
		j.deadline = uint64(block.timestamp + resolveTimeout);
		j.state = State.Challenged;
		emit Challenged(id, msg.sender, fraud);
	}

	/// What the referees sign (as an EIP-191 personal message of these 32
	/// bytes): this contract on this chain, the job, its receipt and fraud
	/// document, and the outcome.
	function resolution(bytes32 id, bool fraudProven) public view returns (bytes32) {
		Job storage j = jobs[id];
		return keccak256(abi.encode("dai-resolve", block.chainid, address(this), id, j.receipt, j.fraud, fraudProven));
	}

	/// Settles a challenge with referee signatures, given in ascending order
	/// of signer address (so no referee counts twice). A proven fraud refunds
	/// the buyer and gives the challenger both bonds; a failed challenge pays
	/// the worker and gives it the challenger's bond.
	function resolve(bytes32 id, bool fraudProven, bytes[] calldata sigs) external {
		Job storage j = jobs[id];
		require(j.state == State.Challenged, "job not challenged");
		require(block.timestamp < j.deadline, "resolution deadline passed");
		bytes32 digest = keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", resolution(id, fraudProven)));
		address last = address(0);
		for (uint256 i = 0; i < sigs.length; i++) {
			address signer = recover(digest, sigs[i]);
			require(isReferee[signer], "signer is not a referee");
			require(signer > last, "signers not in ascending order");
			last = signer;
		}
		require(sigs.length >= threshold, "too few referee signatures");
		j.state = State.Done;
		if (fraudProven) {
			credit[j.buyer] += j.amount;
			credit[j.challenger] += challengeBond + workerBond;
		} else {
			credit[j.worker] += j.price + workerBond + challengeBond;
			credit[j.buyer] += j.amount - j.price;
		}
		emit Resolved(id, fraudProven);
	}

	/// After the window (or an unresolved challenge's deadline) the worker
	/// is paid its price and bond, the buyer gets the rest of the escrow, and
	/// a challenger whose challenge was never decided gets its bond back.
	function finalize(bytes32 id) external {
		Job storage j = jobs[id];
		require(j.state == State.Claimed || j.state == State.Challenged, "job not claimed");
		require(block.timestamp >= j.deadline, j.state == State.Claimed ? "challenge window still open" : "challenge still open to resolution");
		bool timedOut = j.state == State.Challenged;
		j.state = State.Done;
		credit[j.worker] += j.price + workerBond;
		credit[j.buyer] += j.amount - j.price;
		if (timedOut)
			credit[j.challenger] += challengeBond;
		emit Finalized(id, timedOut);
	}

	/// The buyer takes back an escrow that no claim reached before expiry.
	function refund(bytes32 id) external {
		Job storage j = jobs[id];
		require(j.state == State.Escrowed, "job not open");
		require(block.timestamp >= j.expiry, "job not expired");
		j.state = State.Done;
		credit[j.buyer] += j.amount;
		emit Refunded(id);
	}

	/// Pays out everything credited to the caller.
	function withdraw() external {
		uint256 amount = credit[msg.sender];
		require(amount > 0, "nothing to withdraw");
		credit[msg.sender] = 0;
		(bool ok, ) = msg.sender.call{value: amount}("");
		require(ok, "transfer failed");
		emit Withdrawn(msg.sender, amount);
	}

	function recover(bytes32 digest, bytes calldata sig) private pure returns (address) {
		require(sig.length == 65, "signature is not 65 bytes");
		bytes32 r = bytes32(sig[0:32]);
		bytes32 s = bytes32(sig[32:64]);
		uint8 v = uint8(sig[64]);
		require(v == 27 || v == 28, "signature v is not 27 or 28");
		require(uint256(s) <= HALF_N, "signature s is high");
		address signer = ecrecover(digest, v, r, s);
		require(signer != address(0), "signature recovers no address");
		return signer;
	}
}
