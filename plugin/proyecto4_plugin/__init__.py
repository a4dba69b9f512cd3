"""`helm proyecto4`: operate a proyecto4 release (status, promote, rollback, smoke, loadtest)."""
