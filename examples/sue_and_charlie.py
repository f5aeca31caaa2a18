"""The seed example in Python: Sue Signer signs, Charlie Copy gets a copy; SIM beside Aggregate."""

from datetime import timedelta

import connect_sim as cs

for mode in ("sim", "aggregate"):
    sim = cs.Simulation(mode=mode, seed=1)
    sim.add_configuration(cs.Configuration(name="listener", include_data=["recipients"]))
    sue = cs.Signer("Sue Signer", "sue@example.com", routing_order=1)
    charlie = cs.CarbonCopy("Charlie Copy", "charlie@example.com", routing_order=2)
    envelope = sim.create_envelope("Please sign", [sue, charlie])
    sim.send(envelope, at=timedelta(0))
    sim.view(envelope, sue, at=timedelta(minutes=2))
    sim.sign(envelope, sue, at=timedelta(minutes=2, seconds=20))
    received = sim.run().received("listener")
    print(f"{mode}: {len(received)} messages")
    for attempt in received:
        message = cs.parse_message(attempt.body, attempt.headers["Content-Type"])
        people = ", ".join(f"{r.name} {r.status}" for r in message.recipients)
        print(f"  {message.generated:%H:%M:%S}  {message.event:20} {message.status:10} {people}")
