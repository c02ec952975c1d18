package pit
import ("testing";"time")
func TestZZPeak(t *testing.T){ for _, w := range []int{1,2} { t.Logf("%+v", MeasurePeak(w, 500*time.Millisecond)) } }
