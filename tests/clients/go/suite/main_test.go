// A go test suite on database/sql and pgx (stdlib), for wrap mode's
// short-lived sessions: TestMain opens one handle that the Shared tests
// (base_test.go, run first) use between them and closes it at the end,
// idle while the Handle tests run; the Handle tests each open a handle
// of their own, and with GOSUITE_LEAK=1 never close it, so its session
// lives until the binary exits, about a second later.
//
// Built offline against Debian's packages:
//
//	GO111MODULE=off GOPATH=DIR:/usr/share/gocode GOPROXY=off go test -c
//
// Connects with PGHOST, PGPORT, PGUSER and PGDATABASE; application_name
// from GOSUITE_APP.
package suite

import (
	"database/sql"
	"fmt"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v4/stdlib"
)

var shared *sql.DB

func open() (*sql.DB, error) {
	app := os.Getenv("GOSUITE_APP")
	if app == "" {
		app = "gosuite"
	}
	return sql.Open("pgx", "application_name="+app)
}

func query(t testing.TB, db *sql.DB) {
	var n int
	if err := db.QueryRow("SELECT 1").Scan(&n); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the test's own work
}

func TestMain(m *testing.M) {
	var err error
	if shared, err = open(); err == nil {
		err = shared.Ping() // connected before any test runs
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	shared.SetMaxOpenConns(1)
	code := m.Run()
	shared.Close()
	os.Exit(code)
}
