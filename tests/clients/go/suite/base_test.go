package suite

import "testing"

// Eight tests on TestMain's handle, idle between them.
func TestShared1(t *testing.T) { query(t, shared) }
func TestShared2(t *testing.T) { query(t, shared) }
func TestShared3(t *testing.T) { query(t, shared) }
func TestShared4(t *testing.T) { query(t, shared) }
func TestShared5(t *testing.T) { query(t, shared) }
func TestShared6(t *testing.T) { query(t, shared) }
func TestShared7(t *testing.T) { query(t, shared) }
func TestShared8(t *testing.T) { query(t, shared) }
