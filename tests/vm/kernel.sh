# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# Debian kernels for the VM tier, sourced by vmtest.sh: resolve the package behind a series
# (6.1, 6.12) at run time, download it once into a cache outside the repository, unpack only
# the kernel and the modules the guests need, and build the boot files (an uncompressed
# vmlinux, a busybox initramfs). Callers define vm_say and vm_die.

FC_KERNEL_CACHE=${FC_KERNEL_CACHE:-$HOME/.cache/faultcell/kernels}
# Modules the initramfs loads before it can mount the shared root (9p over virtio-pci, and an
# overlay to make it writable). modprobe --show-depends puts them in dependency order.
VM_BOOT_MODULES="virtio_pci 9pnet_virtio 9p overlay"

vm_apt_updated=0

# Print the versioned kernel package a series' meta package depends on.
kernel_pkg() {
	local series=$1 meta dep
	case $series in
	6.1) meta=linux-image-amd64 ;;
	6.12) meta=linux-image-6.12-amd64 ;;
	*) vm_die "unknown kernel series '$series' (use 6.1, 6.12 or all)" ;;
	esac
	dep=$(apt-cache depends "$meta" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
	if [ -z "$dep" ] && [ "$vm_apt_updated" = 0 ]; then
		# Fresh machines have empty package lists: apt-cache knows nothing before this.
		vm_say "apt-get update (package lists are empty or stale)"
		apt-get update -q >/dev/null 2>&1 ||
			vm_die "apt-get update failed: cannot resolve the $series kernel (are Debian's mirrors reachable?)"
		vm_apt_updated=1
		dep=$(apt-cache depends "$meta" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
	fi
	[ -n "$dep" ] || vm_die "cannot resolve the $series kernel: apt-cache depends $meta names no linux-image package (is this Debian 12?)"
	# linux-image-amd64 follows the release: on a newer Debian it is no longer 6.1.
	case $dep in
	linux-image-"$series".*) ;;
	*) vm_die "$meta depends on $dep, not a $series kernel: this harness expects Debian 12 (bookworm) package lists" ;;
	esac
	echo "$dep"
}

# True when kernel release $1 (e.g. 6.1.0-56-amd64, 6.12.117+deb12-amd64) is of series $2.
kernel_in_series() {
	case $1 in "$2".*) return 0 ;; esac
	return 1
}

# Download package $1 into the cache unless it is there; print the .deb's path.
kernel_download() {
	local pkg=$1 ver size deb part t0
	ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1)
	size=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Size: //p' | head -n 1)
	[ -n "$ver" ] || vm_die "apt-cache show $pkg gave no version: cannot download the kernel"
	deb=$FC_KERNEL_CACHE/${pkg}_${ver//:/%3a}_amd64.deb
	if [ -s "$deb" ]; then
		echo "$deb"
		return
	fi
	mkdir -p "$FC_KERNEL_CACHE" || vm_die "cannot create the kernel cache $FC_KERNEL_CACHE (set FC_KERNEL_CACHE)"
	part=$FC_KERNEL_CACHE/.partial
	{ rm -rf "$part" && mkdir -p "$part"; } || vm_die "cannot write to $part"
	vm_say "downloading $pkg $ver ($((${size:-0} / 1048576)) MB) into $FC_KERNEL_CACHE"
	t0=$EPOCHREALTIME
	# The sandbox user _apt cannot write to root's home: download as root, quietly.
	(cd "$part" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$ver" >/dev/null 2>"$part/err") || {
		sed 's/^/  /' "$part/err" >&2
		vm_die "apt-get download $pkg failed (network, or the package lists are stale: apt-get update)"
	}
	mv "$part"/*.deb "$deb" || vm_die "apt-get download $pkg left no .deb in $part"
	rm -rf "$part"
	vm_say "downloaded $pkg in $(vm_since "$t0") s"
	echo "$deb"
}

# Remove cached packages and trees of series $1 other than kernel release $2 (Debian moves on
# and the old ones would pile up).
kernel_prune() {
	local series=$1 kver=$2 f base
	for f in "$FC_KERNEL_CACHE"/linux-image-"$series".*.deb "$FC_KERNEL_CACHE"/"$series".*; do
		[ -e "$f" ] || continue
		base=${f##*/}
		base=${base#linux-image-}
		base=${base%%_*}
		[ "$base" = "$kver" ] && continue
		vm_say "removing the old kernel $base from the cache"
		rm -rf "$f"
	done
}

# Module names and path globs from modules.txt (comments and blank lines dropped).
kernel_module_wants() {
	sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$VM_DIR/modules.txt"
}

# Unpack kernel $2 from .deb $1 into directory $3: boot files, modules.* indexes, the modules
# of modules.txt and the boot set, and everything they depend on; then depmod.
kernel_unpack() {
	local deb=$1 kver=$2 root=$3 list mdir name p dep w added
	local -A path_of=() want=() builtin=()
	list=$root.list
	mdir=./lib/modules/$kver
	dpkg-deb --fsys-tarfile "$deb" | tar -t >"$list" || vm_die "cannot list $deb (corrupt download? delete it and rerun)"
	while read -r p; do
		case $p in *.ko | *.ko.xz | *.ko.zst | *.ko.gz) ;; *) continue ;; esac
		name=${p##*/}
		name=${name%%.ko*}
		path_of[${name//-/_}]=$p
	done <"$list"
	while read -r w; do
		case $w in
		*/*)
			added=0
			while read -r p; do
				# shellcheck disable=SC2053 # the glob is meant to match
				[[ $p == $mdir/$w ]] && { want[$p]=1; added=1; }
			done <"$list"
			[ "$added" = 1 ] || vm_die "modules.txt: '$w' matches no file of $kver"
			;;
		*)
			p=${path_of[${w//-/_}]:-}
			[ -n "$p" ] && want[$p]=1
			;;
		esac
	done < <(kernel_module_wants; tr ' ' '\n' <<<"$VM_BOOT_MODULES")
	mkdir -p "$root" || vm_die "cannot create $root"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$root" ./boot/vmlinuz-"$kver" ./boot/config-"$kver" \
		"$mdir"/modules.builtin "$mdir"/modules.builtin.modinfo "$mdir"/modules.order ||
		vm_die "cannot unpack the kernel image of $deb (disk full?)"
	while read -r p; do
		p=${p##*/}
		builtin[${p%.ko}]=1
	done <"$root/$mdir/modules.builtin"
	# Unpack what is wanted, then what that needs, until nothing new appears.
	local -a todo=("${!want[@]}")
	local -A done_=()
	while [ ${#todo[@]} -gt 0 ]; do
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$root" "${todo[@]}" ||
			vm_die "cannot unpack modules of $deb (disk full?)"
		local -a next=()
		for p in "${todo[@]}"; do
			done_[$p]=1
			for dep in $(modinfo -F depends "$root/$p" | tr ',' ' '); do
				dep=${dep//-/_}
				w=${path_of[$dep]:-}
				if [ -z "$w" ]; then
					[ -n "${builtin[$dep]:-}" ] || vm_die "$p needs module $dep, which $deb does not have"
					continue
				fi
				[ -n "${done_[$w]:-}" ] || [ -n "${want[$w]:-}" ] && continue
				want[$w]=1
				next+=("$w")
			done
		done
		todo=("${next[@]}")
	done
	depmod -b "$root" "$kver" || vm_die "depmod -b $root $kver failed"
	rm -f "$list"
	echo "${#want[@]}"
}

# Write the uncompressed vmlinux inside bzImage $1 to $2: find each compressor's magic and
# decompress from there until one gives an ELF file. QEMU boots that through its PVH entry
# point (CONFIG_PVH), skipping the in-guest decompression (seconds under TCG).
kernel_vmlinux() {
	local bz=$1 out=$2 magic tool off
	for magic in zstd:'\x28\xb5\x2f\xfd' xz:'\xfd7zXZ\x00' gzip:'\x1f\x8b\x08'; do
		tool=${magic%%:*}
		case $tool in
		zstd) tool="zstd -dcq" ;;
		xz) tool="xz -dcq --single-stream" ;;
		gzip) tool="gzip -dcq" ;;
		esac
		# shellcheck disable=SC2013 # byte offsets, one word each
		for off in $(LC_ALL=C grep -aboP "${magic#*:}" "$bz" | cut -d: -f1); do
			# Trailing bytes after the stream make the tools complain: judge by the output.
			tail -c +$((off + 1)) "$bz" | $tool >"$out" 2>/dev/null
			[ "$(head -c 4 "$out" | od -An -c | tr -d ' ')" = '177ELF' ] && return 0
		done
	done
	rm -f "$out"
	return 1
}

# Make kernel series $1 ready in the cache; set KVER and KDIR (holding root/ and the boot image).
kernel_prepare() {
	local series=$1 pkg deb stamp want_stamp t0 n
	pkg=$(kernel_pkg "$series") || exit 1
	KVER=${pkg#linux-image-}
	KDIR=$FC_KERNEL_CACHE/$KVER
	deb=$(kernel_download "$pkg") || exit 1
	kernel_prune "$series" "$KVER"
	want_stamp="$(basename "$deb") $(cksum <"$VM_DIR/modules.txt") $VM_BOOT_MODULES"
	stamp=$KDIR/stamp
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ]; then
		vm_say "kernel $KVER: cached in $KDIR"
		return
	fi
	t0=$EPOCHREALTIME
	vm_say "kernel $KVER: unpacking the kernel and the modules the guests need"
	{ rm -rf "$KDIR" && mkdir -p "$KDIR"; } || vm_die "cannot create $KDIR"
	n=$(kernel_unpack "$deb" "$KVER" "$KDIR/root") || exit 1
	if grep -q '^CONFIG_PVH=y' "$KDIR/root/boot/config-$KVER" &&
		kernel_vmlinux "$KDIR/root/boot/vmlinuz-$KVER" "$KDIR/vmlinux"; then
		rm -f "$KDIR/root/boot/vmlinuz-$KVER"
	else
		vm_say "kernel $KVER: no PVH vmlinux, booting the compressed image (slower)"
		mv "$KDIR/root/boot/vmlinuz-$KVER" "$KDIR/vmlinux"
	fi
	echo "$want_stamp" >"$stamp"
	vm_say "kernel $KVER: $n modules and the kernel unpacked in $(vm_since "$t0") s ($(du -sh "$KDIR" | cut -f1))"
}

# Build the initramfs for kernel $1 (unpacked in $2) into file $3: busybox, our init, the
# modprobe helper and the boot modules decompressed (busybox insmod takes plain .ko only).
kernel_initramfs() {
	local kver=$1 kdir=$2 out=$3 d line p name
	d=$(mktemp -d "$VM_WORK/initramfs.XXXXXX") || vm_die "cannot create a temporary directory"
	mkdir -p "$d"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,host,ovl,newroot,lib/fcmod} || vm_die "cannot fill $d"
	cp /bin/busybox "$d/bin/busybox" || vm_die "no /bin/busybox: install busybox-static (make deps)"
	ln -s busybox "$d/bin/sh"
	install -m 0755 "$VM_DIR/init" "$d/init"
	install -m 0755 "$VM_DIR/modprobe-helper" "$d/sbin/fc-modprobe"
	# The kernel opens /dev/console for init before anything is mounted.
	mknod "$d/dev/console" c 5 1 || vm_die "mknod failed: the VM tier must run as root"
	: >"$d/lib/fcmod/order"
	# shellcheck disable=SC2086 # a list of module names
	modprobe -a -d "$kdir/root" -S "$kver" --show-depends $VM_BOOT_MODULES >"$d/deps" ||
		vm_die "modprobe --show-depends failed for $kver: the module tree in $kdir is broken (delete it)"
	while read -r line; do
		case $line in insmod\ *) ;; *) continue ;; esac
		p=${line#insmod }
		p=${p%% *}
		name=${p##*/}
		name=${name%%.ko*}.ko
		grep -qx "$name" "$d/lib/fcmod/order" && continue
		case $p in
		*.xz) xz -dc "$p" ;;
		*.zst) zstd -dcq "$p" ;;
		*.gz) gzip -dc "$p" ;;
		*) cat "$p" ;;
		esac >"$d/lib/fcmod/$name" || vm_die "cannot decompress $p"
		echo "$name" >>"$d/lib/fcmod/order"
	done <"$d/deps"
	rm -f "$d/deps"
	(cd "$d" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$out" ||
		vm_die "cpio failed building $out"
	rm -rf "$d"
}
