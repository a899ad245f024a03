/*
 * PoolApp - a service on HikariCP in its default shape (minimumIdle =
 * maximumPoolSize: every connection opened at start), for the session
 * verdict's pre-filled pool kind.  Requests come at --rate a second onto
 * a few worker threads; each borrows a connection, runs a short query
 * and closes it (returns it to the pool).  With --leak-every N, every
 * Nth request takes the error path: the query fails and the connection
 * is never closed, so the pool drains until every request times out.
 *
 *   java -cp HikariCP.jar:postgresql.jar:slf4j-api.jar:slf4j-nop.jar:DIR \
 *     PoolApp --app NAME --size 10 --rate 5 --leak-every 0 --duration 60
 *             [--work-ms 20] [--rate-low R --period S]
 *
 * Connects with PGHOST, PGPORT, PGUSER and PGDATABASE.  Prints one line
 * per leaked connection ("leak PID SECONDS", seconds since the start),
 * one when the first request times out ("exhausted SECONDS") and, at
 * the end, the counts.
 */
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

public final class PoolApp {
	private static final AtomicInteger requests = new AtomicInteger();
	private static final AtomicInteger served = new AtomicInteger();
	private static final AtomicInteger timedOut = new AtomicInteger();
	private static final List<Connection> leaked = new ArrayList<>();
	private static final long t0 = System.nanoTime();

	private PoolApp() {
	}

	private static String env(String name, String fallback) {
		String v = System.getenv(name);
		return v == null || v.isEmpty() ? fallback : v;
	}

	private static double workSeconds = 0.02;

	private static String arg(String[] args, String name, String fallback) {
		for (int i = 0; i + 1 < args.length; i++) {
			if (args[i].equals("--" + name)) {
				return args[i + 1];
			}
		}
		return fallback;
	}

	private static void request(HikariDataSource ds, int leakEvery) {
		int n = requests.incrementAndGet();
		Connection c;

		try {
			c = ds.getConnection();
		} catch (SQLException e) {
			/* The pool is exhausted: said once, when it begins. */
			if (timedOut.getAndIncrement() == 0) {
				System.out.println("exhausted "
						   + (System.nanoTime() - t0)
							     / 1_000_000_000L);
				System.out.flush();
			}
			return;
		}
		try {
			if (leakEvery > 0 && n % leakEvery == 0) {
				/* The error path: the query fails, the handler
				 * forgets the connection. */
				try (Statement st = c.createStatement();
				     ResultSet rs = st.executeQuery(
					     "SELECT pg_backend_pid()")) {
					rs.next();
					System.out.println(
						"leak " + rs.getInt(1) + " "
						+ (System.nanoTime() - t0)
							  / 1_000_000_000L);
					System.out.flush();
				}
				synchronized (leaked) {
					leaked.add(c);
				}
				throw new IllegalStateException("request failed");
			}
			try (Statement st = c.createStatement()) {
				st.execute("SELECT pg_sleep(" + workSeconds + ")");
			}
			c.close();
			served.incrementAndGet();
		} catch (SQLException | IllegalStateException e) {
			/* Swallowed, as a sloppy handler does. */
		}
	}

	/* The request rate s seconds in: with a period, it swings from
	 * rate down to low and back, again and again (a daily curve, sped
	 * up); else it stays. */
	private static double rateAt(double s, double rate, double low,
				     double period) {
		if (period <= 0) {
			return rate;
		}
		double phase = (s % period) / period;
		double down = phase < 0.5 ? 2 * phase : 2 - 2 * phase;

		return rate - (rate - low) * down;
	}

	public static void main(String[] args) throws Exception {
		String app = arg(args, "app", "hikari");
		int size = Integer.parseInt(arg(args, "size", "10"));
		double rate = Double.parseDouble(arg(args, "rate", "5"));
		double low = Double.parseDouble(arg(args, "rate-low", "0"));
		double period = Double.parseDouble(arg(args, "period", "0"));
		workSeconds = Double.parseDouble(arg(args, "work-ms", "20")) / 1000;
		int leakEvery = Integer.parseInt(arg(args, "leak-every", "0"));
		int duration = Integer.parseInt(arg(args, "duration", "60"));
		HikariConfig cfg = new HikariConfig();

		cfg.setJdbcUrl("jdbc:postgresql://" + env("PGHOST", "localhost")
			       + ":" + env("PGPORT", "5432") + "/"
			       + env("PGDATABASE", "postgres")
			       + "?ApplicationName=" + app);
		/* A unix-socket directory is no host name for JDBC: the
		 * tests connect over TCP to 127.0.0.1 (PGHOST=127.0.0.1). */
		cfg.setUsername(env("PGUSER", "postgres"));
		cfg.setMaximumPoolSize(size); /* minimumIdle defaults to it */
		cfg.setConnectionTimeout(500);
		cfg.setPoolName(app);
		try (HikariDataSource ds = new HikariDataSource(cfg)) {
			ExecutorService workers =
				Executors.newFixedThreadPool(size + 4);
			long start = System.nanoTime();
			long end = start + duration * 1_000_000_000L;

			for (long next = start; next < end;
			     next += (long)(1_000_000_000L
					    / rateAt((next - start) / 1e9, rate,
						     low, period))) {
				long wait = next - System.nanoTime();

				if (wait > 0) {
					TimeUnit.NANOSECONDS.sleep(wait);
				}
				workers.execute(() -> request(ds, leakEvery));
			}
			workers.shutdown();
			workers.awaitTermination(10, TimeUnit.SECONDS);
			System.out.println("requests " + requests.get() + " served "
					   + served.get() + " timed_out "
					   + timedOut.get() + " leaked "
					   + leaked.size());
		}
	}
}
