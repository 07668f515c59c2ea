//! A simulated filesystem for the power-loss tests: an [`virt_store_engine::FileSystem`] the tests open
//! stores on.
//!
//! It keeps what was written apart from what was synced, as SQLite's crash VFS and redb's crash
//! tests do. A file's data becomes durable when the file is synced. A directory's names (files
//! created, renamed or removed in it) become durable in one of two models, chosen when the
//! filesystem is made:
//! - [`SimFs::new`], **per directory**: when that directory is synced, and no other (btrfs, and
//!   what POSIX promises);
//! - [`SimFs::new_journaled`], **journal**: when any directory is synced, which commits every
//!   directory's names (ext4, whose directory sync commits its one journal).
//!
//! [`SimFs::power_loss`] returns the filesystem a reboot finds: the durable state, or
//! ([`Loss::Random`]) for each directory either its durable names or all its latest ones, and for
//! each file its durable data, its latest data, or a torn prefix of it. That drops, tears and
//! reorders (across directories) whatever was not synced, within what POSIX allows.
//!
//! A store is opened on it with `Store::open_on(sim.clone(), ...)`.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, ErrorKind};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use virt_store_engine::{FileSystem, Kind};

/// What a power loss keeps of what was not synced.
#[derive(Clone, Copy, Debug)]
pub enum Loss {
    /// Nothing: exactly the synced state.
    Strict,
    /// For each directory and file, chosen by this seed: the synced state, all of the latest one,
    /// or (files) a torn prefix of the latest data.
    Random(u64),
}

type Id = usize;

#[derive(Clone, Debug)]
enum Node {
    File {
        data: Vec<u8>,
        durable: Vec<u8>,
        created: SystemTime,
    },
    Dir {
        entries: BTreeMap<String, Id>,
        durable: BTreeMap<String, Id>,
        created: SystemTime,
    },
}

/// An in-memory filesystem mounted at a root path.
#[derive(Debug)]
pub struct SimFs {
    root: PathBuf,
    nodes: Mutex<Vec<Node>>,
    calls: AtomicU64,
    /// After this many calls every call fails (`u64::MAX`: never).
    crash_after: AtomicU64,
    /// Whether a directory sync makes every directory's names durable (the journal model).
    journal: bool,
}

const ROOT: Id = 0;

fn err(kind: ErrorKind, what: &str, path: &Path) -> io::Error {
    io::Error::new(kind, format!("{what}: {}", path.display()))
}

impl SimFs {
    /// An empty filesystem whose root directory is `root` (which is durable).
    pub fn new(root: impl Into<PathBuf>) -> Arc<SimFs> {
        let now = SystemTime::now();
        let root_node = Node::Dir {
            entries: BTreeMap::new(),
            durable: BTreeMap::new(),
            created: now,
        };
        Arc::new(SimFs::with_nodes(root.into(), vec![root_node], false))
    }

    /// An empty filesystem of the journal model: a directory sync makes the names of every
    /// directory durable.
    pub fn new_journaled(root: impl Into<PathBuf>) -> Arc<SimFs> {
        let sim = SimFs::new(root);
        let nodes = sim.nodes().clone();
        Arc::new(SimFs::with_nodes(sim.root.clone(), nodes, true))
    }

    fn with_nodes(root: PathBuf, nodes: Vec<Node>, journal: bool) -> SimFs {
        SimFs {
            root,
            nodes: Mutex::new(nodes),
            calls: AtomicU64::new(0),
            crash_after: AtomicU64::new(u64::MAX),
            journal,
        }
    }

    /// The nodes, for one step of one call (a test that panicked while holding them has failed
    /// already, so a poisoned lock is taken as it is).
    fn nodes(&self) -> MutexGuard<'_, Vec<Node>> {
        self.nodes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Calls made so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    /// After `calls` more calls, every call fails, as if the process had died there.
    pub fn crash_after(&self, calls: u64) {
        self.crash_after
            .store(self.calls() + calls, Ordering::SeqCst);
    }

    /// Whether a crash point was reached.
    pub fn crashed(&self) -> bool {
        self.calls() > self.crash_after.load(Ordering::SeqCst)
    }

    /// Makes everything durable, as a long-finished setup would be.
    pub fn sync_everything(&self) {
        for node in self.nodes().iter_mut() {
            match node {
                Node::File { data, durable, .. } => *durable = data.clone(),
                Node::Dir {
                    entries, durable, ..
                } => *durable = entries.clone(),
            }
        }
    }

    /// The filesystem a reboot after a power loss finds (see [`Loss`]).
    pub fn power_loss(&self, loss: Loss) -> Arc<SimFs> {
        let nodes = self.nodes();
        let mut rng = match loss {
            Loss::Strict => 0,
            Loss::Random(seed) => seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
        };
        let mut random = move |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        let strict = matches!(loss, Loss::Strict);
        let mut kept: Vec<Node> = Vec::new();
        let mut map: HashMap<Id, Id> = HashMap::new();
        // Depth-first from the root over the names each directory keeps; hard links keep sharing.
        fn visit(
            old: Id,
            nodes: &[Node],
            kept: &mut Vec<Node>,
            map: &mut HashMap<Id, Id>,
            strict: bool,
            random: &mut dyn FnMut(u64) -> u64,
        ) -> Id {
            if let Some(&new) = map.get(&old) {
                return new;
            }
            let new = kept.len();
            map.insert(old, new);
            kept.push(Node::File {
                data: Vec::new(),
                durable: Vec::new(),
                created: SystemTime::now(),
            });
            let node = match &nodes[old] {
                Node::File {
                    data,
                    durable,
                    created,
                } => {
                    let survived = if strict || data == durable {
                        durable.clone()
                    } else {
                        match random(3) {
                            0 => durable.clone(),
                            1 => data.clone(),
                            _ => data[..random(data.len() as u64 + 1) as usize].to_vec(),
                        }
                    };
                    Node::File {
                        data: survived.clone(),
                        durable: survived,
                        created: *created,
                    }
                }
                Node::Dir {
                    entries,
                    durable,
                    created,
                } => {
                    let names = if strict || random(2) == 0 {
                        durable
                    } else {
                        entries
                    };
                    let mut survived = BTreeMap::new();
                    for (name, &child) in names {
                        survived
                            .insert(name.clone(), visit(child, nodes, kept, map, strict, random));
                    }
                    Node::Dir {
                        entries: survived.clone(),
                        durable: survived,
                        created: *created,
                    }
                }
            };
            kept[new] = node;
            new
        }
        visit(ROOT, &nodes, &mut kept, &mut map, strict, &mut random);
        Arc::new(SimFs::with_nodes(self.root.clone(), kept, self.journal))
    }

    /// Counts a call, and fails it once the crash point is passed.
    fn call(&self) -> io::Result<()> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.crashed() {
            return Err(io::Error::other(
                "simulated power loss: this process is gone",
            ));
        }
        Ok(())
    }

    fn components<'p>(&self, path: &'p Path) -> io::Result<Vec<&'p str>> {
        let rest = path.strip_prefix(&self.root).map_err(|_| {
            err(
                ErrorKind::NotFound,
                "outside the simulated filesystem",
                path,
            )
        })?;
        let mut parts = Vec::new();
        for c in rest.components() {
            match c {
                Component::Normal(name) => parts.push(
                    name.to_str()
                        .ok_or_else(|| err(ErrorKind::InvalidInput, "not UTF-8", path))?,
                ),
                Component::CurDir => {}
                _ => return Err(err(ErrorKind::InvalidInput, "unsupported path", path)),
            }
        }
        Ok(parts)
    }

    fn lookup(&self, path: &Path) -> io::Result<Id> {
        let nodes = self.nodes();
        let mut id = ROOT;
        for name in self.components(path)? {
            id = match &nodes[id] {
                Node::Dir { entries, .. } => *entries
                    .get(name)
                    .ok_or_else(|| err(ErrorKind::NotFound, "no such file or directory", path))?,
                Node::File { .. } => {
                    return Err(err(ErrorKind::NotADirectory, "not a directory", path))
                }
            };
        }
        Ok(id)
    }

    /// The directory holding `path`, and `path`'s name in it.
    fn parent<'p>(&self, path: &'p Path) -> io::Result<(Id, &'p str)> {
        let parts = self.components(path)?;
        let (name, _) = parts
            .split_last()
            .ok_or_else(|| err(ErrorKind::InvalidInput, "the root has no parent", path))?;
        let parent = self.lookup(path.parent().unwrap_or(path))?;
        match &self.nodes()[parent] {
            Node::Dir { .. } => Ok((parent, name)),
            Node::File { .. } => Err(err(ErrorKind::NotADirectory, "not a directory", path)),
        }
    }

    fn entries_mut(nodes: &mut [Node], dir: Id) -> &mut BTreeMap<String, Id> {
        match &mut nodes[dir] {
            Node::Dir { entries, .. } => entries,
            Node::File { .. } => unreachable!("checked to be a directory"),
        }
    }

    fn insert_new(&self, path: &Path, node: Node) -> io::Result<()> {
        let (parent, name) = self.parent(path)?;
        let mut nodes = self.nodes();
        if Self::entries_mut(&mut nodes, parent).contains_key(name) {
            return Err(err(ErrorKind::AlreadyExists, "already exists", path));
        }
        let id = nodes.len();
        nodes.push(node);
        Self::entries_mut(&mut nodes, parent).insert(name.to_owned(), id);
        Ok(())
    }

    fn file(&self, path: &Path) -> io::Result<Vec<u8>> {
        let id = self.lookup(path)?;
        match &self.nodes()[id] {
            Node::File { data, .. } => Ok(data.clone()),
            Node::Dir { .. } => Err(err(ErrorKind::IsADirectory, "is a directory", path)),
        }
    }

    fn remove(&self, path: &Path, want: Option<Kind>) -> io::Result<()> {
        let (dir, name) = self.parent(path)?;
        let id = self.lookup(path)?;
        let mut nodes = self.nodes();
        match (&nodes[id], want) {
            (Node::Dir { .. }, Some(Kind::File)) => {
                return Err(err(ErrorKind::IsADirectory, "is a directory", path))
            }
            (Node::File { .. }, Some(Kind::Dir)) => {
                return Err(err(ErrorKind::NotADirectory, "not a directory", path))
            }
            (Node::Dir { entries, .. }, Some(Kind::Dir)) if !entries.is_empty() => {
                return Err(err(
                    ErrorKind::DirectoryNotEmpty,
                    "directory not empty",
                    path,
                ))
            }
            _ => {}
        }
        Self::entries_mut(&mut nodes, dir).remove(name);
        Ok(())
    }
}

impl FileSystem for SimFs {
    fn write_new(&self, path: &Path, bytes: &[u8], sync: bool) -> io::Result<()> {
        self.call()?;
        let durable = if sync { bytes.to_vec() } else { Vec::new() };
        self.insert_new(
            path,
            Node::File {
                data: bytes.to_vec(),
                durable,
                created: SystemTime::now(),
            },
        )
    }

    fn read(&self, path: &Path, limit: usize) -> io::Result<Vec<u8>> {
        self.call()?;
        let mut data = self.file(path)?;
        data.truncate(limit);
        Ok(data)
    }

    fn sync_file(&self, path: &Path) -> io::Result<()> {
        self.call()?;
        let id = self.lookup(path)?;
        if let Node::File { data, durable, .. } = &mut self.nodes()[id] {
            *durable = data.clone();
        }
        Ok(())
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        self.call()?;
        let id = self.lookup(path)?;
        let mut nodes = self.nodes();
        if matches!(nodes[id], Node::File { .. }) {
            return Err(err(ErrorKind::NotADirectory, "not a directory", path));
        }
        for (at, node) in nodes.iter_mut().enumerate() {
            if let Node::Dir {
                entries, durable, ..
            } = node
            {
                if at == id || self.journal {
                    *durable = entries.clone();
                }
            }
        }
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.call()?;
        let (from_dir, from_name) = self.parent(from)?;
        let (to_dir, to_name) = self.parent(to)?;
        let moved = self.lookup(from)?;
        let mut nodes = self.nodes();
        let moved_is_dir = matches!(nodes[moved], Node::Dir { .. });
        if let Some(&target) = Self::entries_mut(&mut nodes, to_dir).get(to_name) {
            match (&nodes[target], moved_is_dir) {
                (Node::Dir { entries, .. }, true) if entries.is_empty() => {}
                (Node::Dir { .. }, true) => {
                    return Err(err(ErrorKind::DirectoryNotEmpty, "directory not empty", to))
                }
                (Node::File { .. }, false) => {}
                (Node::Dir { .. }, false) => {
                    return Err(err(ErrorKind::IsADirectory, "is a directory", to))
                }
                (Node::File { .. }, true) => {
                    return Err(err(ErrorKind::NotADirectory, "not a directory", to))
                }
            }
        }
        Self::entries_mut(&mut nodes, from_dir).remove(from_name);
        Self::entries_mut(&mut nodes, to_dir).insert(to_name.to_owned(), moved);
        Ok(())
    }

    fn hard_link(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.call()?;
        let id = self.lookup(from)?;
        let (dir, name) = self.parent(to)?;
        let mut nodes = self.nodes();
        if matches!(nodes[id], Node::Dir { .. }) {
            return Err(err(
                ErrorKind::IsADirectory,
                "cannot link a directory",
                from,
            ));
        }
        let entries = Self::entries_mut(&mut nodes, dir);
        if entries.contains_key(name) {
            return Err(err(ErrorKind::AlreadyExists, "already exists", to));
        }
        entries.insert(name.to_owned(), id);
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.call()?;
        self.remove(path, Some(Kind::File))
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        self.call()?;
        self.remove(path, Some(Kind::Dir))
    }

    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        self.call()?;
        self.remove(path, None)
    }

    fn create_dir(&self, path: &Path) -> io::Result<()> {
        self.call()?;
        self.insert_new(
            path,
            Node::Dir {
                entries: BTreeMap::new(),
                durable: BTreeMap::new(),
                created: SystemTime::now(),
            },
        )
    }

    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        self.call()?;
        let mut at = self.root.clone();
        for name in self.components(path)? {
            at.push(name);
            match self.lookup(&at) {
                Ok(id) if matches!(self.nodes()[id], Node::Dir { .. }) => {}
                Ok(_) => return Err(err(ErrorKind::NotADirectory, "not a directory", &at)),
                Err(_) => self.insert_new(
                    &at,
                    Node::Dir {
                        entries: BTreeMap::new(),
                        durable: BTreeMap::new(),
                        created: SystemTime::now(),
                    },
                )?,
            }
        }
        Ok(())
    }

    fn list(&self, path: &Path) -> io::Result<Vec<io::Result<String>>> {
        self.call()?;
        let id = self.lookup(path)?;
        match &self.nodes()[id] {
            Node::Dir { entries, .. } => Ok(entries.keys().cloned().map(Ok).collect()),
            Node::File { .. } => Err(err(ErrorKind::NotADirectory, "not a directory", path)),
        }
    }

    fn kind(&self, path: &Path) -> io::Result<Kind> {
        self.call()?;
        let id = self.lookup(path)?;
        Ok(match &self.nodes()[id] {
            Node::Dir { .. } => Kind::Dir,
            Node::File { .. } => Kind::File,
        })
    }

    fn len(&self, path: &Path) -> io::Result<u64> {
        self.call()?;
        Ok(self.file(path)?.len() as u64)
    }

    fn modified(&self, path: &Path) -> io::Result<SystemTime> {
        self.call()?;
        let id = self.lookup(path)?;
        Ok(match &self.nodes()[id] {
            Node::File { created, .. } | Node::Dir { created, .. } => *created,
        })
    }
}
