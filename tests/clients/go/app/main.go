// A service on one of Go's two common pools, for the session verdict on
// a language and pools the other clients do not use: pgx's pgxpool
// (puddle: opens on demand up to MaxConns, keeps every member, takes
// the most recently returned) and database/sql on pgx's stdlib driver
// (opens on demand, keeps at most MaxIdleConns idle and closes the rest
// as they come back, so under load it churns).  Requests come at --rate
// a second; each takes a connection, runs pg_sleep(--work-ms) and gives
// it back.  With --leak-every N every Nth request takes the error path
// and never gives its connection back.
//
//	PGUSER=app go-app --app NAME --pool pgxpool|sql --max 10 --rate 5 \
//	    [--leak-every N | --leak-every-s S] [--idle N] [--work-ms 20] \
//	    [--rate-low R (--period S | --walk-step D)] --duration 60
//
// Built offline against Debian's packages:
//
//	GO111MODULE=off GOPATH=DIR:/usr/share/gocode GOPROXY=off go build
//
// Connects with PGHOST, PGPORT, PGUSER and PGDATABASE.  Prints one line
// per leaked connection ("leak PID SECONDS"), one when the first request
// times out waiting ("exhausted SECONDS") and, at the end, the counts.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math"
	"math/rand"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v4/pgxpool"
	_ "github.com/jackc/pgx/v4/stdlib"
)

type options struct {
	app, pool                 string
	max, idle, leakEvery      int
	rate, rateLow, period     float64
	workMs, duration, timeout float64
	walkStep, leakEveryS      float64
}

// A pool seen as the service uses it: take a connection, run one
// statement on it, give it back; or forget it (the leak).
type conn interface {
	backendPid(ctx context.Context) (int, error)
	sleep(ctx context.Context, s float64) error
	giveBack()
}

type pool interface {
	take(ctx context.Context) (conn, error)
	close()
}

type pgxConn struct{ c *pgxpool.Conn }

func (p pgxConn) backendPid(ctx context.Context) (int, error) {
	return int(p.c.Conn().PgConn().PID()), nil
}
func (p pgxConn) sleep(ctx context.Context, s float64) error {
	_, err := p.c.Exec(ctx, "SELECT pg_sleep($1)", s)
	return err
}
func (p pgxConn) giveBack() { p.c.Release() }

type pgxPool struct{ p *pgxpool.Pool }

func (p pgxPool) take(ctx context.Context) (conn, error) {
	c, err := p.p.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	return pgxConn{c}, nil
}
func (p pgxPool) close() { p.p.Close() }

type sqlConn struct{ c *sql.Conn }

func (s sqlConn) backendPid(ctx context.Context) (int, error) {
	var pid int
	err := s.c.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid)
	return pid, err
}
func (s sqlConn) sleep(ctx context.Context, secs float64) error {
	_, err := s.c.ExecContext(ctx, "SELECT pg_sleep($1)", secs)
	return err
}
func (s sqlConn) giveBack() { s.c.Close() }

type sqlPool struct{ db *sql.DB }

func (s sqlPool) take(ctx context.Context) (conn, error) {
	c, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	return sqlConn{c}, nil
}
func (s sqlPool) close() { s.db.Close() }

func openPool(o options) (pool, error) {
	dsn := "application_name=" + o.app
	if o.pool == "pgxpool" {
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			return nil, err
		}
		if o.max > 0 {
			cfg.MaxConns = int32(o.max)
		}
		p, err := pgxpool.ConnectConfig(context.Background(), cfg)
		if err != nil {
			return nil, err
		}
		return pgxPool{p}, nil
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(o.max)
	if o.idle >= 0 {
		db.SetMaxIdleConns(o.idle) // else database/sql's default, 2
	}
	return sqlPool{db}, db.Ping()
}

// walked is the rate of a random walk: each second a step of up to
// --walk-step either way, kept between --rate-low and --rate.
var walked, walkedAt float64

// rateAt is the request rate s seconds in: with a period it swings from
// --rate down to --rate-low and back (a daily curve, sped up); with
// --walk-step it wanders between them at random.
func rateAt(s float64, o options) float64 {
	if o.walkStep > 0 {
		if walked == 0 {
			walked = (o.rate + o.rateLow) / 2
		}
		for ; walkedAt < s; walkedAt++ {
			walked += (2*rand.Float64() - 1) * o.walkStep
			walked = math.Max(o.rateLow, math.Min(o.rate, walked))
		}
		return walked
	}
	if o.period <= 0 {
		return o.rate
	}
	phase := math.Mod(s, o.period) / o.period
	down := 2 * phase
	if phase >= 0.5 {
		down = 2 - 2*phase
	}
	return o.rate - (o.rate-o.rateLow)*down
}

func main() {
	var o options
	flag.StringVar(&o.app, "app", "go-app", "application_name")
	flag.StringVar(&o.pool, "pool", "pgxpool", "pgxpool or sql (database/sql)")
	flag.IntVar(&o.max, "max", 10, "the pool's most connections")
	flag.IntVar(&o.idle, "idle", -1, "database/sql: most idle connections kept (default 2)")
	flag.IntVar(&o.leakEvery, "leak-every", 0, "every Nth request never gives its connection back")
	flag.Float64Var(&o.rate, "rate", 5, "requests a second")
	flag.Float64Var(&o.rateLow, "rate-low", 1, "with --period: the lowest rate")
	flag.Float64Var(&o.period, "period", 0, "seconds of one swing from --rate to --rate-low and back")
	flag.Float64Var(&o.walkStep, "walk-step", 0, "a random walk of the rate between --rate-low and --rate, by up to this each second")
	flag.Float64Var(&o.leakEveryS, "leak-every-s", 0, "the first request after each such many seconds never gives its connection back")
	flag.Float64Var(&o.workMs, "work-ms", 20, "each request's statement, in ms")
	flag.Float64Var(&o.duration, "duration", 60, "seconds to run")
	flag.Float64Var(&o.timeout, "timeout", 2, "seconds a request waits for a connection")
	flag.Parse()
	if o.pool != "pgxpool" && o.pool != "sql" {
		fmt.Fprintln(os.Stderr, "go-app: --pool is pgxpool or sql")
		os.Exit(2)
	}
	p, err := openPool(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-app:", err)
		os.Exit(1)
	}
	t0 := time.Now()
	since := func() float64 { return math.Round(time.Since(t0).Seconds()*10) / 10 }
	var served, timedOut, leakedN int64
	var exhaustedOnce sync.Once
	var leaked []conn
	var leakedAt float64 // --leak-every-s: when the last leak was
	var mu sync.Mutex
	var wg sync.WaitGroup
	for n := 1; time.Since(t0).Seconds() < o.duration; n++ {
		leak := o.leakEvery > 0 && n%o.leakEvery == 0
		if o.leakEveryS > 0 && time.Since(t0).Seconds()-leakedAt >= o.leakEveryS {
			leak, leakedAt = true, time.Since(t0).Seconds()
		}
		wg.Add(1)
		go func(n int, leak bool) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(),
				time.Duration(o.timeout*float64(time.Second)))
			c, err := p.take(ctx)
			cancel()
			if err != nil {
				exhaustedOnce.Do(func() { fmt.Println("exhausted", since()) })
				atomic.AddInt64(&timedOut, 1)
				return
			}
			if leak {
				// The error path: the handler forgets the connection.
				pid, _ := c.backendPid(context.Background())
				fmt.Println("leak", pid, since())
				mu.Lock()
				leaked = append(leaked, c)
				mu.Unlock()
				atomic.AddInt64(&leakedN, 1)
				return
			}
			if c.sleep(context.Background(), o.workMs/1000) == nil {
				atomic.AddInt64(&served, 1)
			}
			c.giveBack()
		}(n, leak)
		time.Sleep(time.Duration(float64(time.Second) / rateAt(time.Since(t0).Seconds(), o)))
	}
	wg.Wait()
	fmt.Println("requests served", served, "timed_out", timedOut, "leaked", leakedN)
	os.Exit(0) // the leaked connections close with the process
}
