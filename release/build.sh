#!/usr/bin/env bash
# The Linux x64 release: a runtime made by jlink with only the modules the jar needs (jdeps), a
# jpackage app image on it (bin/faultdisk, a native launcher), the man pages, then
#   DIST/faultdisk-VERSION-linux-x64.tar.gz   the app image, man pages and licence: runs anywhere, no JDK
#   DIST/faultdisk_DEBVERSION_amd64.deb       jpackage's .deb of the same image, installed in
#                                             /opt/faultdisk, with /usr/bin/faultdisk and the man pages
# Run by the release module (./mvnw -Prelease package): build.sh VERSION JAVA_HOME JAR DIST
set -euo pipefail
version=$1 java_home=$2 jar=$3 dist=$4
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(dirname "$jar")/release-work
rm -rf "$work" && mkdir -p "$work/input" "$dist"
cp "$jar" "$work/input/faultdisk.jar"
# jpackage wants a numeric version; a snapshot is the release it leads to, with ~SNAPSHOT for dpkg.
app_version=${version%%-*}
deb_version=$app_version${version#"$app_version"}
deb_version=${deb_version/-/\~}

echo "release: man pages"
"$java_home/bin/java" -cp "$jar" dev.faultdisk.cli.ManPages "$work/man/man1"
gzip -9n "$work"/man/man1/*.1

echo "release: runtime (jlink)"
modules=$("$java_home/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release 25 "$jar")
# zip-0 inside the runtime: the tarball and the .deb compress it once, and better.
"$java_home/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
  --compress=zip-0 --output "$work/runtime"

echo "release: app image (jpackage)"
# The launcher's JVM options (scripts/jvm.options), each as one --java-options.
java_options=()
while read -r option; do
  java_options+=(--java-options "$option")
done < <("$root/scripts/jvm-options.sh")
# The JVM's ahead-of-time cache, trained below on the image's own runtime (scripts/aot-cache.sh:
# the server's classes loaded and linked, its methods' profiles), where the launcher finds it. The
# training runs fio; without it, the server's own warm-up (no large writes: a narrower cache).
command -v fio >/dev/null || echo "release: fio is not installed: the AOT cache is trained on the server's warm-up alone" >&2
java_options+=(--java-options '-XX:AOTCache=$APPDIR/faultdisk.aot' --java-options -Xlog:aot=off)
"$java_home/bin/jpackage" --type app-image --name faultdisk --app-version "$app_version" \
  --input "$work/input" --main-jar faultdisk.jar --main-class dev.faultdisk.cli.Main \
  --runtime-image "$work/runtime" "${java_options[@]}" \
  --description "A programmable faulty disk served over NBD" --vendor faultdisk \
  --dest "$work/image"
image=$work/image/faultdisk

echo "release: AOT cache (a training run on the image's runtime)"
JAVA=$image/lib/runtime/bin/java "$root/scripts/aot-cache.sh" "$image/lib/app/faultdisk.jar" \
  "$image/lib/app/faultdisk.aot"
# The runtime is the image's own: no other JDK to tell apart (./faultdisk's check).
rm "$image/lib/app/faultdisk.aot.jdk"

echo "release: tarball"
name=faultdisk-$version-linux-x64
mkdir -p "$work/tar/$name/share"
cp -a "$image/bin" "$image/lib" "$work/tar/$name/"
cp -r "$work/man" "$work/tar/$name/share/man"
cp "$root/LICENSE" "$root/README.md" "$work/tar/$name/"
tar -C "$work/tar" --owner=0 --group=0 -czf "$dist/$name.tar.gz" "$name"

echo "release: .deb (jpackage)"
# gzip: dpkg-deb's default xz takes a minute and a half on this runtime for a 20% smaller file.
DPKG_DEB_COMPRESSOR_TYPE=gzip "$java_home/bin/jpackage" --type deb --app-image "$image" --name faultdisk \
  --app-version "$app_version" --linux-package-name faultdisk \
  --description "A programmable faulty disk served over NBD, for testing distributed systems" \
  --vendor faultdisk --linux-deb-maintainer "The faultdisk maintainers <faultdisk@users.noreply.github.com>" \
  --license-file "$root/LICENSE" --linux-app-category utils --dest "$work/deb"
# jpackage installs the image under /opt/faultdisk and nothing else: add the command on the PATH
# and the man pages where man finds them, owned by the package, then pack it again.
deb=$(ls "$work"/deb/*.deb)
tree=$work/deb-tree
dpkg-deb -R "$deb" "$tree"
mkdir -p "$tree/usr/bin" "$tree/usr/share/man/man1"
# jpackage's copy gave every file the time of the copy: the AOT cache holds the jar's time and
# size, and the JVM refuses the cache for a jar whose time changed. The image's times, back.
(cd "$image" && find . -type f) | while read -r f; do touch -r "$image/$f" "$tree/opt/faultdisk/$f"; done
ln -s /opt/faultdisk/bin/faultdisk "$tree/usr/bin/faultdisk"
cp "$work"/man/man1/*.gz "$tree/usr/share/man/man1/"
sed -i "s/^Version: .*/Version: $deb_version/" "$tree/DEBIAN/control"
if [ -f "$tree/DEBIAN/md5sums" ]; then
  (cd "$tree" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | sort | xargs md5sum) > "$tree/DEBIAN/md5sums"
fi
rm -f "$dist"/faultdisk_*.deb
dpkg-deb --root-owner-group -Zgzip -b "$tree" "$dist/faultdisk_${deb_version}_amd64.deb" >/dev/null
rm -rf "$tree"

(cd "$dist" && sha256sum "$name.tar.gz" "faultdisk_${deb_version}_amd64.deb" > SHA256SUMS)
echo "release: $(cd "$dist" && ls -1 | tr '\n' ' ')"
