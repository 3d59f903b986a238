#!/bin/sh
# Creates /srv/git/manifests.git (REPO_NAME.git, when set) from manifests-example/ the first
# time; later runs keep it.
# It runs as hoist (UID 10001), like the service that pushes to the repository: a new named
# volume on /srv/git takes the owner of the image's /srv/git. The repository appears whole
# or not at all (cloned beside it, then renamed), so a failed run is simply run again.
set -eu
root="${GIT_DIR_ROOT:-/srv/git}"
repo="$root/${REPO_NAME:-manifests}.git"
[ -d "$repo" ] && exit 0
if [ ! -w "$root" ]; then
  echo "seed-manifests: $root is not writable by UID $(id -u) (a volume left by an older" \
       "stack?): remove it with 'docker compose down -v' and start again" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -R "${EXAMPLE:-/example}/." "$work"
git -C "$work" init -q -b main
git -C "$work" -c user.name=hoist -c user.email=hoist@localhost add -A
git -C "$work" -c user.name=hoist -c user.email=hoist@localhost commit -q -m "chore: seed from manifests-example"
partial="$root/.${REPO_NAME:-manifests}.git.seeding"
rm -rf "$partial"
git clone -q --bare "$work" "$partial"
mv "$partial" "$repo"
echo "seeded $repo"
