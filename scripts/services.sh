#!/usr/bin/env bash
# Makes sure the services the integration tests talk to are up on loopback:
# PostgreSQL (5432, database test), Redis (6379), NATS with JetStream (4222),
# and that the versitygw S3 server binary is installed (tests start their own).
# Each service is started only when it does not answer.
set -euo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_up() {
	for _ in $(seq 1 50); do up "$1" && return 0; sleep 0.2; done
	echo "service on port $1 did not come up" >&2
	return 1
}
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
need_apt=()
command -v pg_ctlcluster >/dev/null || need_apt+=(postgresql)
command -v redis-server >/dev/null || need_apt+=(redis-server)
[ -x /usr/sbin/nats-server ] || command -v nats-server >/dev/null || need_apt+=(nats-server)
if [ ${#need_apt[@]} -gt 0 ]; then
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! up 5432; then
	$sudo pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
	wait_up 5432
fi
# The tests connect over TCP as postgres, without a password, to database
# test. A fresh Debian cluster asks for a password on 127.0.0.1 (scram), so
# loopback connections as postgres are trusted first (-w: never prompt).
pg() { psql -w -h 127.0.0.1 -U postgres -d postgres "$@"; }
if ! pg -tAc "SELECT 1" >/dev/null 2>&1; then
	pgver=$(ls /etc/postgresql | head -n1)
	hba=/etc/postgresql/$pgver/main/pg_hba.conf
	$sudo sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' "$hba"
	$sudo pg_ctlcluster --skip-systemctl-redirect "$pgver" main reload
	sleep 0.5
fi
pg -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 ||
	pg -c "CREATE DATABASE test" >/dev/null

if ! up 6379; then
	mkdir -p /var/lib/redis /var/log/redis
	redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
	wait_up 6379
fi

if ! up 4222; then
	nats=$(command -v nats-server || echo /usr/sbin/nats-server)
	mkdir -p /var/lib/nats-server
	start-stop-daemon --start --oknodo --background --exec "$nats" -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
	wait_up 4222
fi

gobin=$(go env GOPATH)/bin
if ! command -v versitygw >/dev/null && [ ! -x "$gobin/versitygw" ]; then
	echo "installing versitygw" >&2
	go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
fi
