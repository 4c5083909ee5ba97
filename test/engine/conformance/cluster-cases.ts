// Cluster + numbered databases, as a Valkey 9.1 cluster of 3 primaries with cluster-databases 16
// answers them (slots 0-5460 / 5461-10922 / 10923-16383). Every case runs on a connection to the
// primary serving slot 3300. Keys: b=3300, k2=449, k3=4576, {cat}:a=1075 (this node);
// c=7365 (second primary); a=15495 (third primary). Checklist: Valkey's tests/unit/cluster/multidb.tcl
// and shared/notes/valkey9.md.
import {ANY, type Case} from './types.js'

const MOVED_C = /^-MOVED 7365 [^ ]+:\d+$/
const CROSSSLOT = "-CROSSSLOT Keys in request don't hash to the same slot"

export const clusterCases: Case[] = [
  {
    name: 'SELECT picks a database; the same key lives separately in each',
    steps: [
      [['SELECT', '9'], '+OK'],
      [['SET', 'b', 'in-nine'], '+OK'],
      [['GET', 'b'], '$in-nine'],
      [['SELECT', '0'], '+OK'],
      [['GET', 'b'], null],
      [['SET', 'b', 'in-zero'], '+OK'],
      [['SELECT', '9'], '+OK'],
      [['GET', 'b'], '$in-nine'],
    ],
  },
  {
    name: 'SELECT out of range or not a number',
    steps: [
      [['SELECT', '16'], '-ERR DB index is out of range'],
      [['SELECT', '-1'], '-ERR DB index is out of range'],
      [['SELECT', 'abc'], '-ERR value is not an integer or out of range'],
    ],
  },
  {
    name: 'DBSIZE and INFO keyspace count this node and the selected db only',
    steps: [
      [['SELECT', '5'], '+OK'],
      [['SET', 'b', '1'], '+OK'],
      [['SET', 'k2', '1'], '+OK'],
      [['DBSIZE'], ':2'],
      [['SELECT', '6'], '+OK'],
      [['DBSIZE'], ':0'],
      [['INFO', 'keyspace'], /db5:keys=2,expires=0,avg_ttl=0,keys_with_volatile_items=0/],
    ],
  },
  {
    name: 'a key of another primary is redirected with MOVED',
    steps: [
      [['GET', 'c'], MOVED_C],
      [['SELECT', '3'], '+OK'],
      [['SET', 'c', '1'], MOVED_C],
      [['MOVE', 'c', '4'], MOVED_C],
    ],
  },
  {
    name: 'multi-key commands across slots fail with CROSSSLOT, even on one node',
    steps: [
      [['MSET', 'b', '1', 'k2', '2'], CROSSSLOT],
      [['MGET', 'b', 'k3'], CROSSSLOT],
      [['DEL', 'b', 'c'], CROSSSLOT],
      [['MSET', '{b}x', '1', 'b', '2'], '+OK'],
      [['MGET', 'b', '{b}x'], ['$2', '$1']],
    ],
  },
  {
    name: 'MOVE moves a key to another db and keeps its TTL',
    steps: [
      [['SELECT', '1'], '+OK'],
      [['SET', 'b', 'v', 'EX', '1000'], '+OK'],
      [['MOVE', 'b', '2'], ':1'],
      [['EXISTS', 'b'], ':0'],
      [['SELECT', '2'], '+OK'],
      [['GET', 'b'], '$v'],
      [['TTL', 'b'], /^:(999|1000)$/],
    ],
  },
  {
    name: 'MOVE answers 0 when the key is absent or already exists in the target',
    steps: [
      [['SELECT', '1'], '+OK'],
      [['MOVE', 'b', '2'], ':0'],
      [['SET', 'b', 'one'], '+OK'],
      [['SELECT', '2'], '+OK'],
      [['SET', 'b', 'two'], '+OK'],
      [['SELECT', '1'], '+OK'],
      [['MOVE', 'b', '2'], ':0'],
      [['GET', 'b'], '$one'],
    ],
  },
  {
    name: 'MOVE errors: same db, out of range, not a number',
    steps: [
      [['SET', 'b', '1'], '+OK'],
      [['MOVE', 'b', '0'], '-ERR source and destination objects are the same'],
      [['MOVE', 'b', '16'], '-ERR DB index is out of range'],
      [['MOVE', 'b', 'x'], '-ERR value is not an integer or out of range'],
    ],
  },
  {
    name: 'COPY to another db, with and without REPLACE',
    steps: [
      [['SET', '{cat}:a', 'v1'], '+OK'],
      [['COPY', '{cat}:a', '{cat}:a', 'DB', '15'], ':1'],
      [['COPY', '{cat}:a', '{cat}:a', 'DB', '15'], ':0'],
      [['SET', '{cat}:a', 'v2'], '+OK'],
      [['COPY', '{cat}:a', '{cat}:a', 'DB', '15', 'REPLACE'], ':1'],
      [['SELECT', '15'], '+OK'],
      [['GET', '{cat}:a'], '$v2'],
      [['COPY', '{cat}:a', '{cat}:a'], '-ERR source and destination objects are the same'],
      [['COPY', '{cat}:a', '{cat}:b', 'DB', '99'], '-ERR DB index is out of range'],
    ],
  },
  {
    name: 'COPY to a name of another slot is CROSSSLOT',
    steps: [[['COPY', 'b', 'k2', 'DB', '1'], CROSSSLOT]],
  },
  {
    name: 'SWAPDB is refused in cluster mode',
    steps: [
      [['SWAPDB', '0', '1'], '-ERR SWAPDB is not allowed in cluster mode'],
      [['SWAPDB', '0', '0'], '-ERR SWAPDB is not allowed in cluster mode'],
    ],
  },
  {
    name: 'FLUSHDB empties the selected db only; FLUSHALL every db of this node',
    steps: [
      [['SET', 'b', '0'], '+OK'],
      [['SELECT', '1'], '+OK'],
      [['SET', 'b', '1'], '+OK'],
      [['FLUSHDB'], '+OK'],
      [['DBSIZE'], ':0'],
      [['SELECT', '0'], '+OK'],
      [['DBSIZE'], ':1'],
      [['FLUSHALL', 'SYNC'], '+OK'],
      [['DBSIZE'], ':0'],
      [['FLUSHDB', 'NOW'], '-ERR syntax error'],
    ],
  },
  {
    name: 'CLUSTER COUNTKEYSINSLOT and GETKEYSINSLOT see the selected db',
    steps: [
      [['SELECT', '3'], '+OK'],
      [['SET', 'b', '1'], '+OK'],
      [['SET', '{b}x', '1'], '+OK'],
      [['CLUSTER', 'COUNTKEYSINSLOT', '3300'], ':2'],
      [['CLUSTER', 'GETKEYSINSLOT', '3300', '1'], [/^\$(b|\{b\}x)$/]],
      [['SELECT', '4'], '+OK'],
      [['CLUSTER', 'COUNTKEYSINSLOT', '3300'], ':0'],
      [['CLUSTER', 'GETKEYSINSLOT', '3300', '10'], []],
      [['CLUSTER', 'COUNTKEYSINSLOT', '16384'], '-ERR Invalid slot'],
    ],
  },
  {
    name: 'CLUSTER KEYSLOT follows hash tags',
    steps: [
      [['CLUSTER', 'KEYSLOT', 'b'], ':3300'],
      [['CLUSTER', 'KEYSLOT', '{b}anything'], ':3300'],
      [['CLUSTER', 'KEYSLOT', 'price:1'], ':1444'],
      [['CLUSTER', 'KEYSLOT', '{}b'], ':6680'],
    ],
  },
  {
    name: 'CLUSTER INFO says the cluster is ok',
    steps: [[['CLUSTER', 'INFO'], /^\$cluster_state:ok\r\ncluster_slots_assigned:16384\r\n/]],
  },
  {
    name: 'MULTI/EXEC with SELECT and MOVE in one slot',
    steps: [
      [['SET', 'b', 'staged'], '+OK'],
      [['MULTI'], '+OK'],
      [['MOVE', 'b', '7'], '+QUEUED'],
      [['SELECT', '7'], '+QUEUED'],
      [['GET', 'b'], '+QUEUED'],
      [['EXEC'], [':1', '+OK', '$staged']],
      [['GET', 'b'], '$staged'],
    ],
  },
  {
    name: 'MULTI/EXEC spanning two slots of this node fails at EXEC with CROSSSLOT',
    steps: [
      [['MULTI'], '+OK'],
      [['SET', 'b', '1'], '+QUEUED'],
      [['SET', 'k2', '1'], '+QUEUED'],
      [['EXEC'], CROSSSLOT],
      [['EXISTS', 'b'], ':0'],
    ],
  },
  {
    name: "a key of another node inside MULTI errors when queued and aborts EXEC",
    steps: [
      [['MULTI'], '+OK'],
      [['SET', 'b', '1'], '+QUEUED'],
      [['SET', 'c', '1'], MOVED_C],
      [['EXEC'], '-EXECABORT Transaction discarded because of previous errors.'],
    ],
  },
  {
    name: 'EVAL may SELECT and MOVE keys of several slots of this node (no shebang)',
    steps: [
      [['SET', 'b', '1'], '+OK'],
      [['SET', 'k2', '2'], '+OK'],
      [
        ['EVAL', "redis.call('SELECT', 0) local n = 0 for _, k in ipairs(ARGV) do n = n + redis.call('MOVE', k, 3) end return n", '0', 'b', 'k2', 'k3'],
        ':2',
      ],
      [['GET', 'b'], null],
      [['SELECT', '3'], '+OK'],
      [['MGET', 'b'], ['$1']],
      [['GET', 'k2'], '$2'],
    ],
  },
  {
    name: "SELECT inside a script does not change the caller's db",
    steps: [
      [['SELECT', '2'], '+OK'],
      [['EVAL', "redis.call('SELECT', 5) return redis.call('SET', KEYS[1], 'x')", '1', 'b'], '+OK'],
      [['EXISTS', 'b'], ':0'],
      [['SELECT', '5'], '+OK'],
      [['GET', 'b'], '$x'],
    ],
  },
  {
    name: 'EVAL with a plain #!lua shebang refuses undeclared keys of another slot',
    steps: [
      [
        ['EVAL', "#!lua\nredis.call('GET', 'b') return redis.call('GET', 'k2')", '0'],
        /^-ERR Script attempted to access keys that do not hash to the same slot script: .*on @user_script:2\.$/,
      ],
      [['EVAL', "#!lua flags=allow-cross-slot-keys\nredis.call('GET', 'b') return redis.call('GET', 'k2')", '0'], null],
    ],
  },
  {
    name: 'EVAL touching a key of another node fails (what was done before stays done)',
    steps: [
      [
        ['EVAL', "redis.call('SET', 'b', 'done') return redis.call('GET', 'c')", '0'],
        /^-ERR (Script a|A)ttempted to access a non local key in a cluster node script: .*on @user_script:1\.$/,
      ],
      [['GET', 'b'], '$done'],
    ],
  },
  {
    name: 'a cross-slot command inside a script is refused like a non-local key (Valkey 9.1 wording)',
    steps: [
      [
        ['EVAL', "return redis.call('MSET', 'b', '1', 'k2', '2')", '0'],
        /^-ERR Attempted to access a non local key in a cluster node script: .*on @user_script:1\.$/,
      ],
    ],
    // On a real Valkey 9.1.0 node this error leaves scripting broken until restart (every later
    // redis.call fails the same way), so it runs on the engine only.
    engineOnly: 'poisons a real Valkey 9.1.0 node',
  },
  {
    name: 'EVAL declared keys must share one slot',
    steps: [
      [['EVAL', 'return 1', '2', 'b', 'k2'], CROSSSLOT],
      [['EVAL', 'return 1', '1', 'c'], MOVED_C],
      [['EVAL', "return redis.call('SWAPDB', 0, 1)", '0'], /^-ERR SWAPDB is not allowed in cluster mode/],
    ],
  },
  {
    name: 'READONLY and READWRITE are accepted',
    steps: [
      [['READONLY'], '+OK'],
      [['READWRITE'], '+OK'],
    ],
  },
  {
    name: 'SCAN, KEYS and RANDOMKEY see the selected db of this node only',
    steps: [
      [['SELECT', '8'], '+OK'],
      [['SET', 'b', '1'], '+OK'],
      [['KEYS', '*'], ['$b']],
      [['SCAN', '0', 'COUNT', '100'], ['$0', ['$b']]],
      [['RANDOMKEY'], '$b'],
      [['SELECT', '9'], '+OK'],
      [['RANDOMKEY'], null],
    ],
  },
  {
    name: 'CONFIG GET cluster-databases',
    steps: [[['CONFIG', 'GET', 'cluster-databases'], ['$cluster-databases', '$16']]],
  },
  {
    name: 'cluster-databases cannot be changed at runtime',
    steps: [
      [
        ['CONFIG', 'SET', 'cluster-databases', '32'],
        "-ERR CONFIG SET failed (possibly related to argument 'cluster-databases') - can't set immutable config",
      ],
    ],
  },
  {
    name: 'CLIENT INFO shows the selected db',
    steps: [
      [['SELECT', '4'], '+OK'],
      [['CLIENT', 'INFO'], /^\$id=\d+ .* db=4 /],
    ],
  },
  {
    name: 'HELLO reports a Valkey server in cluster mode',
    steps: [
      [
        ['HELLO', '2'],
        ['$server', '$valkey', '$version', /^\$9\./, '$proto', ':2', '$id', ANY, '$mode', '$cluster', '$role', '$master', '$modules', [['$name', '$lua', '$ver', ':1', '$path', '$lua', '$args', []]]],
      ],
    ],
  },
]
