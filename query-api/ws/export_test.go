package ws

// PeakQueueBytes returns the most bytes any one connection of h has had queued.
func (h *Hub) PeakQueueBytes() int64 { return h.peakQueued.Load() }
