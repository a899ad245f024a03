package suite

import (
	"os"
	"testing"
)

// A handle per test: closed by the fixed suite, left open by the leaky
// one (GOSUITE_LEAK=1).
func handle(t *testing.T) {
	db, err := open()
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("GOSUITE_LEAK") != "1" {
		defer db.Close()
	}
	query(t, db)
}

func TestHandle1(t *testing.T) { handle(t) }
func TestHandle2(t *testing.T) { handle(t) }
func TestHandle3(t *testing.T) { handle(t) }
func TestHandle4(t *testing.T) { handle(t) }
func TestHandle5(t *testing.T) { handle(t) }
func TestHandle6(t *testing.T) { handle(t) }
func TestHandle7(t *testing.T) { handle(t) }
func TestHandle8(t *testing.T) { handle(t) }
